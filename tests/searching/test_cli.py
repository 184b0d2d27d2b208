"""``yolo-prune search`` as a user types it: its keys, and bad input as one line with exit code 2."""

import subprocess
import sys

import pytest

from yoloprune.cli import parse_args, search_config


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "yoloprune", "search", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=600)


def test_search_keys_parse_to_its_config():
    args = parse_args("search", ["model=best.pt", "data=my.yaml", "max_drop=1.0", "trials=12", "amounts=0.4,0.8",
                                 "schedules=progressive", "distill=none", "use_ray=True", "lr0=0.002"])
    assert args["amounts"] == (0.4, 0.8) and args["schedules"] == "progressive" and args["use_ray"] is True
    assert args["ultralytics"] == {"lr0": 0.002}  # Ultralytics' train arguments pass through to every trial
    config = search_config(args)
    assert config.schedules == ("progressive",) and config.amounts == (0.4, 0.8) and config.distill == ("none",)
    both = parse_args("search", ["distill=none,native", "criteria=taylor_raw"])  # "none" is the word, not None
    assert search_config(both).distill == ("none", "native") and search_config(both).trials == 12


@pytest.mark.parametrize("args, message", [
    (["data=shapes-mini"], "search needs model=<trained checkpoint .pt>"),
    (["model={ckpt}", "data=shapes-mini", "max_drop=0.01"], "max_drop counts points"),
    (["model={ckpt}", "data=shapes-mini", "max_drop=-1"], "above 0"),
    (["model={ckpt}", "data=shapes-mini", "amounts=0.9,0.3"], "0 < low < high < 1"),
    (["resume=nowhere"], "no search.json there"),
    (["resume=nowhere", "epochs=3"], "only trials= may be given"),
])
def test_bad_search_input_is_one_line_exit_2(args, message, dense_ckpt, tmp_path):
    r = _cli(*(a.format(ckpt=dense_ckpt) for a in args), cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0] and lines[0].startswith("yolo-prune search: error:")
    assert not (tmp_path / "runs").exists()  # nothing written
