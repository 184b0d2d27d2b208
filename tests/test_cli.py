"""The yolo-prune command line, in subprocesses, as a user runs it."""

import json
import subprocess
import sys

import pytest

from yoloprune.cli import help_text, parse_args, parse_value


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "yoloprune.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600)


def test_parse_values_without_eval():
    assert parse_value("0.5") == 0.5 and parse_value("8") == 8 and parse_value("true") is True
    assert parse_value("none") is None and parse_value("0,model.4") == (0, "model.4")
    assert parse_value("__import__('os').system('x')") == "__import__('os').system('x')"  # a string, never run


def test_parse_args_aliases_and_suggestions():
    args = parse_args("prune", ["model=a.pt", "ratio=0.3", "method=l1", "skip=0"])
    assert args["amount"] == 0.3 and args["criterion"] == "l1" and args["skip"] == (0,)
    from yoloprune.errors import ConfigError

    with pytest.raises(ConfigError, match="Did you mean 'amount'"):
        parse_args("prune", ["amout=0.5"])
    with pytest.raises(ConfigError, match="must be key=value"):
        parse_args("prune", ["model"])


def test_help_lists_every_key():
    text = help_text("prune")
    for key in ("model", "data", "criterion", "target", "amount", "allocation", "round_to", "min_channels", "skip",
                "imgsz", "project", "name", "exist_ok"):
        assert f"  {key}=" in text


def test_cli_prune_end_to_end(tmp_path):
    p = _cli("prune", "model=yolo11n.yaml", "target=params", "amount=0.6", "criterion=lamp", "imgsz=64",
             "project=out", "name=run", cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-2000:]
    run = tmp_path / "out" / "run"
    assert f"Results saved to {run}" in p.stdout or "Results saved to out/run" in p.stdout
    d = json.loads((run / "prune.json").read_text())
    assert d["criterion"] == "lamp" and abs(d["pruned"]["params"] / d["dense"]["params"] - 0.6) <= 0.018
    assert (run / "pruned.pt").stat().st_size > 0
    again = _cli("prune", "model=yolo11n.yaml", "imgsz=64", "project=out", "name=run", cwd=tmp_path)
    assert again.returncode == 0
    second = [d for d in (tmp_path / "out").iterdir() if d.name != "run"]  # Ultralytics' increment: run2 / run-2
    assert len(second) == 1 and (second[0] / "pruned.pt").exists() and second[0].name in again.stdout
    assert json.loads((run / "prune.json").read_text()) == d  # the first run was not overwritten


@pytest.mark.parametrize(
    "args,needle",
    [
        (["prune", "model=yolo11n.yaml", "amout=0.5"], "Did you mean 'amount'"),
        (["prune", "model=yolo11n.yaml", "amount=2"], "strictly between 0 and 1"),
        (["prune", "model=missing.pt"], "not found"),
        (["prune", "model=yolo11n.yaml", "criterion=foo"], "unknown criterion"),
        (["prune", "model=yolo11n.yaml", "data=nosuchset", "criterion=taylor"], "unknown dataset"),
        (["prnue"], "Did you mean 'prune'"),
    ],
)
def test_cli_user_errors_exit_nonzero_without_traceback(args, needle, tmp_path):
    p = _cli(*args, cwd=tmp_path)
    assert p.returncode == 2
    assert needle in p.stderr and "Traceback" not in p.stderr
    assert not (tmp_path / "runs").exists()


def test_cli_debug_shows_traceback(tmp_path):
    p = _cli("prune", "model=missing.pt", "debug=true", cwd=tmp_path)
    assert p.returncode == 2 and "Traceback" in p.stderr


def test_cli_prune_while_training(tmp_path):
    p = _cli("prune", "model=yolov8n.yaml", "data=shapes-mini", "target=macs", "amount=0.5", "epochs=3", "steps=2",
             "start_epoch=0", "end_epoch=1", "imgsz=64", "batch=8", "project=out", "name=prog", cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-3000:]
    run = tmp_path / "out" / "prog"
    assert (run / "weights" / "best.pt").exists() and (run / "weights" / "last.pt").exists()
    d = json.loads((run / "prune.json").read_text())
    assert [h["step"] for h in d["history"]] == [1, 2]
    assert abs(d["pruned"]["macs"] / d["dense"]["macs"] - 0.5) <= 0.015
    schedule = json.loads((run / "prune_schedule.json").read_text())
    assert schedule["complete"] and schedule["epochs"] == [1, 2]
