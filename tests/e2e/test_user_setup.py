"""The library leaves a user's Ultralytics setup alone: settings, config dir, online state, environment.

Each test runs in a fresh process with a user's HOME: ``~/.config/Ultralytics/settings.json``
holding their ``datasets_dir``, ``runs_dir`` and an integration flag (and the Arial.ttf Ultralytics
downloaded for them earlier), no ``YOLO*`` variables and no ``YOLOPRUNE_OFFLINE`` opt-in. The
network guard still runs (logging to the test's own file): Ultralytics' own online check may try
DNS in such a process, which is the user's Ultralytics, not ours.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

USER_SETTINGS = {"datasets_dir": "/data/my_datasets", "tensorboard": True}
# what the stack itself sets while training/exporting, with or without yoloprune: Ultralytics' augment module,
# torch's inductor (ONNX export) and polars' import (jemalloc config)
# and Ultralytics' seeding for deterministic training (CUBLAS_WORKSPACE_CONFIG)
THIRD_PARTY_ENV = {"NO_ALBUMENTATIONS_UPDATE", "TORCHINDUCTOR_CACHE_DIR", "_RJEM_MALLOC_CONF", "CUBLAS_WORKSPACE_CONFIG"}
OURS_BEFORE = {"YOLO_OFFLINE", "YOLO_CONFIG_DIR", "YOLO_AUTOINSTALL", "MPLCONFIGDIR", "NNCF_CI"}  # what main used to set
ULTRALYTICS_OWN = {"openvino_msg"}  # a one-time tip flag Ultralytics' own ONNX exporter turns off after showing it


def _users(settings: dict) -> dict:
    return {k: v for k, v in settings.items() if k not in ULTRALYTICS_OWN}


def _user_env(tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YOLO", "ULTRALYTICS", "MPL", "NNCF", "PYTEST"))}
    env.update(HOME=str(tmp_path / "home"), YOLOPRUNE_NETGUARD_LOG=str(tmp_path / "net.log"),
               YOLOPRUNE_HOME=os.environ["YOLOPRUNE_HOME"])  # yoloprune's own cache (the generated datasets)
    env.pop("XDG_CONFIG_HOME", None)
    return env


@pytest.fixture
def user(tmp_path):
    """A user's Ultralytics settings file, written by Ultralytics itself, then edited as a user would."""
    env = _user_env(tmp_path)
    (tmp_path / "home").mkdir()
    settings = {**USER_SETTINGS, "runs_dir": str(tmp_path / "my_runs")}
    code = ("from ultralytics.utils import SETTINGS, USER_CONFIG_DIR\n"
            f"SETTINGS.update({settings!r})\nprint(USER_CONFIG_DIR)\n")
    p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    config_dir = Path(p.stdout.strip().splitlines()[-1])
    assert config_dir == tmp_path / "home" / ".config" / "Ultralytics"
    import matplotlib

    shutil.copyfile(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf", config_dir / "Arial.ttf")
    return env, config_dir, settings


def _settings_file(config_dir) -> dict:
    return json.loads((config_dir / "settings.json").read_text())


def test_import_and_every_api_entry_point_leave_the_user_setup_alone(user, tmp_path, mini_data):
    env, config_dir, settings = user
    before = _settings_file(config_dir)
    code = f"""
import json, os, sys
from yoloprune import YOLO                      # the issue's repro: this used to switch Ultralytics' config dir
import ultralytics.utils as U
state = lambda: {{"env": dict(os.environ), "settings": dict(U.SETTINGS), "config_dir": str(U.USER_CONFIG_DIR),
                 "online": U.ONLINE, "telemetry_hidden": "openvino_telemetry" in sys.modules
                 and sys.modules["openvino_telemetry"] is None}}
first = state()
import yoloprune
from yoloprune.callbacks import add_pruning_callbacks
from yoloprune.export.exporter import export_all
r = yoloprune.prune("yolov8n.yaml", data={str(mini_data)!r}, imgsz=64, project={str(tmp_path / "p")!r}, name="oneshot")
model = YOLO("yolov8n.yaml")
add_pruning_callbacks(model, target="macs", amount=0.5, steps=1, start_epoch=0, end_epoch=0, imgsz=64)
model.train(data={str(mini_data)!r}, epochs=1, imgsz=64, batch=8, workers=0, plots=False,
            project={str(tmp_path / "p")!r}, name="cb")
export_all(r.checkpoint, "onnx", imgsz=64)
from yoloprune.benchmarking.benchmark import benchmark
benchmark(r.checkpoint, dense=r.checkpoint, formats="onnx", imgsz=64, runs=2, warmup=1, out_dir={str(tmp_path / "b")!r})
ft = yoloprune.finetune(r.checkpoint, data={str(mini_data)!r}, epochs=1,
                        train_args=dict(imgsz=64, batch=8, workers=0, plots=False))
first["finetuned"] = str(ft.checkpoint)  # no project=: where Ultralytics puts runs for this user
print(json.dumps({{"first": first, "last": state()}}, default=str))
"""
    p = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stderr[-3000:]
    seen = json.loads(p.stdout.strip().splitlines()[-1])
    first, last = seen["first"], seen["last"]
    assert first["config_dir"] == str(config_dir)  # the user's config dir, not a private one
    assert Path(first["finetuned"]).is_relative_to(settings["runs_dir"])  # their runs_dir, not ours
    for key, value in settings.items():
        assert first["settings"][key] == value == last["settings"][key]
    assert _users(last["settings"]) == _users(first["settings"]) and last["config_dir"] == first["config_dir"]
    assert last["online"] == first["online"] and not last["telemetry_hidden"]
    assert "YOLO_OFFLINE" not in last["env"] and "YOLO_CONFIG_DIR" not in last["env"]
    changed = {k for k in set(first["env"]) | set(last["env"]) if first["env"].get(k) != last["env"].get(k)}
    assert changed <= THIRD_PARTY_ENV, changed - THIRD_PARTY_ENV  # no variable set, changed or removed by the library
    assert not OURS_BEFORE & set(last["env"])
    assert _users(_settings_file(config_dir)) == _users(before)  # the file on disk too
    assert not (tmp_path / "home" / ".cache" / "yoloprune").exists()  # no private Ultralytics config dir


def test_cli_leaves_the_user_setup_alone_and_opt_in_goes_offline(user, tmp_path, mini_data):
    env, config_dir, settings = user
    before = _settings_file(config_dir)
    cli = [sys.executable, "-m", "yoloprune"]
    p = subprocess.run([*cli, "prune", "model=yolov8n.yaml", f"data={mini_data}", "imgsz=64", "project=out", "name=a"],
                       env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    p = subprocess.run([*cli, "finetune", f"model={tmp_path / 'out' / 'a' / 'pruned.pt'}", f"data={mini_data}",
                        "epochs=1", "imgsz=64", "batch=8", "plots=false", "project=out"], env=env, cwd=tmp_path,
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    assert _users(_settings_file(config_dir)) == _users(before)
    assert not (tmp_path / "home" / ".cache" / "yoloprune" / "ultralytics").exists()
    # the explicit opt-in: offline, private config dir under $YOLOPRUNE_HOME, no network attempt at all
    private = tmp_path / "private"
    log = tmp_path / "optin-net.log"
    p = subprocess.run([*cli, "prune", "model=yolo11n.yaml", "imgsz=64", "project=out", "name=b"],
                       env={**env, "YOLOPRUNE_OFFLINE": "1", "YOLOPRUNE_HOME": str(private),
                            "YOLOPRUNE_NETGUARD_LOG": str(log)},
                       cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    own = private / "ultralytics" / "Ultralytics"  # YOLO_CONFIG_DIR/Ultralytics
    assert (own / "settings.json").exists() and (own / "Arial.ttf").exists()
    assert not log.exists() or not log.read_text(), log.read_text()
    assert _users(_settings_file(config_dir)) == _users(before)
