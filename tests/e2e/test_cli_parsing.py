"""The yolo-prune command line, in subprocesses, as a user runs it."""

import json
import subprocess
import sys

import pytest

from yoloprune.cli import help_text, parse_args, parse_value


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "yoloprune", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600)


def test_parse_values_without_eval():
    assert parse_value("0.5") == 0.5 and parse_value("8") == 8 and parse_value("true") is True
    assert parse_value("none") is None and parse_value("0,model.4") == (0, "model.4")
    assert parse_value("__import__('os').system('x')") == "__import__('os').system('x')"  # a string, never run


def test_parse_args_aliases_and_suggestions():
    args = parse_args("prune", ["model=a.pt", "ratio=0.3", "importance=l1", "skip=0"])
    assert args["amount"] == 0.3 and args["criterion"] == "l1" and args["skip"] == (0,)
    from yoloprune.cli import run
    from yoloprune.errors import ConfigError

    # method= names the kind of pruning (issue 16: structured | unstructured), no longer the criterion
    with pytest.raises(ConfigError, match="criterion=..., e.g. criterion=l2"):
        run("prune", parse_args("prune", ["model=a.pt", "method=l1"]))

    with pytest.raises(ConfigError, match="Did you mean 'amount'"):
        parse_args("prune", ["amout=0.5"])
    with pytest.raises(ConfigError, match="must be key=value"):
        parse_args("prune", ["model"])


def test_ultralytics_arguments_pass_through_with_their_own_type_checks():
    from yoloprune.errors import ConfigError

    args = parse_args("prune", ["model=a.pt", "epochs=3", "device=0,1", "lr0=0.001", "optimizer=AdamW", "amount=0.4"])
    assert args["ultralytics"] == {"device": "0,1", "lr0": 0.001, "optimizer": "AdamW"}  # for Ultralytics' train()
    assert args["amount"] == 0.4 and "amount" not in args["ultralytics"]  # our keys keep priority
    assert parse_args("finetune", ["model=a.pt", "lr0=0.002", "cos_lr=true"])["ultralytics"] == {"lr0": 0.002, "cos_lr": True}
    assert parse_args("export", ["model=a.pt", "opset=12", "simplify=false"])["ultralytics"] == {"opset": 12, "simplify": False}
    with pytest.raises(ConfigError, match="'lr0=abc' is of invalid type"):  # Ultralytics' own check and message
        parse_args("finetune", ["model=a.pt", "lr0=abc"])
    with pytest.raises(ConfigError, match="Did you mean 'lr0'"):  # suggestions search both sets
        parse_args("finetune", ["model=a.pt", "lr_0=0.01"])
    with pytest.raises(ConfigError, match="format=openvino:int8"):  # set by yolo-prune, with the way to say it
        parse_args("export", ["model=a.pt", "int8=true"])
    with pytest.raises(ConfigError, match="unknown key 'lr0' for 'report'"):  # report runs no Ultralytics stage
        parse_args("report", ["run=x", "lr0=0.1"])
    assert parse_args("finetune", ["model=a.pt", "classes=[0,2]"])["ultralytics"] == {"classes": [0, 2]}  # list syntax
    assert parse_args("finetune", ["model=a.pt", "classes=[3]", "device=0"])["ultralytics"] == {"classes": [3], "device": 0}
    assert parse_args("finetune", ["model=a.pt", "name=0", "project=runs,x"])["name"] == "0"  # names stay as typed
    with pytest.raises(ConfigError, match="checked and timed at batch 1"):
        parse_args("benchmark", ["model=a.pt", "batch=4"])
    with pytest.raises(ConfigError, match="give 'hardware=' only"):
        parse_args("benchmark", ["model=a.pt", "target=jetson", "hardware=iphone"])



def test_bf16_amp_refused_where_ultralytics_cannot_run_it():
    """amp=bf16 on the CPU once ran into a RuntimeError traceback from inside Ultralytics' trainer."""
    import torch

    from yoloprune.errors import ConfigError

    with pytest.raises(ConfigError, match="amp=bf16 needs a CUDA GPU.*not device=cpu: use amp=True .* amp=False"):
        parse_args("finetune", ["model=a.pt", "data=shapes", "amp=bf16", "device=cpu"])
    assert parse_args("finetune", ["model=a.pt", "data=shapes", "amp=True", "device=cpu"])["ultralytics"]["amp"] is True
    with pytest.raises(ConfigError, match="not device=xpu:0"):
        parse_args("finetune", ["model=a.pt", "data=shapes", "amp=bf16", "device=xpu:0"])
    # no training, no check: an export ignores the key; a one-shot prune refuses every training key itself
    assert parse_args("export", ["model=a.pt", "amp=bf16"])["ultralytics"]["amp"] == "bf16"
    assert parse_args("prune", ["model=a.pt", "amp=bf16"])["ultralytics"]["amp"] == "bf16"
    with pytest.raises(ConfigError, match="amp=bf16 needs"):
        parse_args("prune", ["model=a.pt", "data=shapes", "epochs=3", "amp=bf16", "device=cpu"])
    if not torch.cuda.is_available():  # the default device here is the CPU
        with pytest.raises(ConfigError, match="no CUDA GPU"):
            parse_args("finetune", ["model=a.pt", "data=shapes", "amp=bf16"])
    elif torch.cuda.is_bf16_supported(including_emulation=False):
        assert parse_args("finetune", ["model=a.pt", "data=shapes", "amp=bf16"])["ultralytics"]["amp"] == "bf16"
    # the GPUs asked for are the ones checked (it checked GPU 0 whatever device= said: mixed rigs)
    from yoloprune.cli import gpu_indices

    assert gpu_indices("", 2) == [0] and gpu_indices("cuda", 2) == [0] and gpu_indices("cuda:1", 2) == [1]
    assert gpu_indices("0,1", 2) == [0, 1] and gpu_indices("1, 3", 4) == [1, 3] and gpu_indices("-1", 3) == [0, 1, 2]


def test_bf16_amp_is_checked_on_the_gpus_asked_for(monkeypatch):
    """A rig with an Ampere GPU 0 and a Turing GPU 1 (torch's device queries stand in for the hardware)."""
    import torch

    from yoloprune.errors import ConfigError

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda i=None: {0: (8, 0), 1: (7, 5)}[i])
    monkeypatch.setattr(torch.version, "hip", None)
    train = ["model=a.pt", "data=shapes", "amp=bf16"]
    assert parse_args("finetune", [*train, "device=0"])["ultralytics"]["amp"] == "bf16"
    for device in ("1", "cuda:1", "0,1", "-1"):
        with pytest.raises(ConfigError, match=f"not device={device}"):
            parse_args("finetune", [*train, f"device={device}"])


def test_benchmark_hardware_key_and_deprecated_target():  # the deprecation line: test_export_and_benchmark_commands
    assert parse_args("benchmark", ["model=a.pt", "hardware=jetson"])["hardware"] == "jetson"
    args = parse_args("benchmark", ["model=a.pt", "target=iphone"])
    assert args["hardware"] == "iphone" and "target" not in args
    assert parse_args("prune", ["model=a.pt", "target=params"])["target"] == "params"  # prune's target is the measure


def test_one_shot_prune_and_resume_refuse_training_arguments(tmp_path):
    p = _cli("prune", "model=yolo11n.yaml", "imgsz=64", "lr0=0.01", "project=out", "name=x", cwd=tmp_path)
    assert p.returncode == 2 and "add epochs=N" in p.stderr and not (tmp_path / "out").exists()
    p = _cli("prune", "resume=last.pt", "device=0,1", cwd=tmp_path)
    assert p.returncode == 2 and "continues with the arguments it started with" in p.stderr


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
             "start_epoch=0", "end_epoch=1", "imgsz=64", "batch=8", "project=out", "name=prog",
             "device=cpu", "lr0=0.0123", "momentum=0.91", "seed=3", cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-3000:]
    run = tmp_path / "out" / "prog"
    import yaml

    trained = yaml.safe_load((run / "args.yaml").read_text())  # what Ultralytics' trainer ran with
    assert (trained["device"], trained["lr0"], trained["momentum"], trained["seed"]) == ("cpu", 0.0123, 0.91, 3)
    assert (run / "weights" / "best.pt").exists() and (run / "weights" / "last.pt").exists()
    d = json.loads((run / "prune.json").read_text())
    assert [h["step"] for h in d["history"]] == [1, 2]
    assert abs(d["pruned"]["macs"] / d["dense"]["macs"] - 0.5) <= 0.015
    schedule = json.loads((run / "prune_schedule.json").read_text())
    assert schedule["complete"] and schedule["epochs"] == [1, 2]
