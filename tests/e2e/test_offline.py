"""No network, no home-config writes, no heavy imports: checked in fresh processes under the guard."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

GUARD = Path(__file__).parents[1] / "netguard"  # tests/netguard
GUARDED = "import sys; sys.path.insert(0, {guard!r}); import sitecustomize; sitecustomize.install()\n"


def _clean_env(tmp_path, log):
    """A user's environment: no Ultralytics/yoloprune variables, an empty HOME, the guard logging to ``log``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YOLO", "ULTRALYTICS", "PYTEST", "MPL"))}
    env.update(HOME=str(tmp_path / "home"), YOLOPRUNE_NETGUARD_LOG=str(log))
    (tmp_path / "home").mkdir(exist_ok=True)
    return env


def test_guard_blocks_and_records_in_child_processes(tmp_path):
    log = tmp_path / "net.log"
    code = "import socket\ntry:\n    socket.getaddrinfo('example.com', 80)\nexcept OSError as e:\n    print(type(e).__name__)\n"
    proc = subprocess.run([sys.executable, "-c", code], env=_clean_env(tmp_path, log), capture_output=True, text=True)
    assert proc.stdout.strip() == "NetworkBlocked"
    assert "example.com" in log.read_text()


def test_import_has_no_side_effects(tmp_path):
    log = tmp_path / "net.log"
    code = (
        "import sys, yoloprune, json\n"
        "EXPORT = {'ultralytics', 'openvino', 'tensorrt', 'coremltools', 'onnxruntime'}\n"
        "bare = sorted({m.split('.')[0] for m in sys.modules} & (EXPORT | {'torch', 'torch_pruning'}))\n"
        "cfg = yoloprune.PruneConfig(amount=0.4)\n"
        "print(json.dumps([bare, sorted({m.split('.')[0] for m in sys.modules} & EXPORT)]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], env=_clean_env(tmp_path, log), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    # importing the package loads nothing heavy; a config loads the core (torch-pruning's criteria), never
    # Ultralytics or an export backend
    assert json.loads(proc.stdout) == [[], []]
    assert not list((tmp_path / "home").rglob("*"))  # nothing written into the user's home
    assert not log.exists() or not log.read_text()


def test_cli_flows_make_no_network_connection(tmp_path, mini_data):
    """Build, prune, save, reload and a 1-epoch train + val, via the CLI in a user's environment."""
    log = tmp_path / "net.log"
    env = _clean_env(tmp_path, log)
    env.update(YOLOPRUNE_HOME=str(tmp_path / "cache"), YOLOPRUNE_OFFLINE="1")  # the opt-in (library use stays online)
    cli = [sys.executable, "-m", "yoloprune"]
    run = lambda *a: subprocess.run([*cli, *a], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)  # noqa: E731
    p = run("prune", "model=yolov8n.yaml", "data=shapes-mini", "criterion=taylor", "target=macs", "amount=0.5",
            "imgsz=64", "project=runs", "name=p")
    assert p.returncode == 0, p.stderr[-3000:]
    pruned = tmp_path / "runs" / "p" / "pruned.pt"
    f = run("finetune", f"model={pruned}", "data=shapes-mini", "epochs=1", "imgsz=64", "batch=8", "workers=0",
            "project=runs", "name=ft")
    assert f.returncode == 0, f.stderr[-3000:]
    best = tmp_path / "runs" / "ft" / "weights" / "best.pt"
    assert str(best) in f.stdout and best.exists()  # the command ends by saying where its output is
    results = (tmp_path / "runs" / "ft" / "results.csv").read_text().splitlines()
    assert len(results) == 2 and "metrics/mAP50-95(B)" in results[0]  # one epoch, validated
    assert not log.exists() or not log.read_text(), log.read_text()
    assert not [p for p in (tmp_path / "home").rglob("*")]  # nothing written into the user's home


def test_openvino_conversion_sends_no_telemetry(tmp_path):
    """ov.convert_model (behind every OpenVINO export) posts usage events to Google Analytics and writes
    ~/intel/* whenever the home directory exists and CI is not set; inside offline.no_telemetry() (around every
    export of ours) it does neither, and the process gets its state back afterwards."""
    pytest.importorskip("openvino")
    log = tmp_path / "net.log"
    env = _clean_env(tmp_path, log)
    env.pop("CI", None)  # OpenVINO's telemetry stays quiet in CI: test what a user's shell gets
    env.pop("NNCF_CI", None)  # (the test session's own offline setup sets it)
    code = (
        "import os, sys\n"
        "from yoloprune import offline\n"
        "with offline.no_telemetry():\n"
        "    import torch, openvino as ov\n"
        "    ov.convert_model(torch.nn.Conv2d(3, 4, 3), example_input=torch.rand(1, 3, 8, 8))\n"
        "    import time; time.sleep(1)\n"  # the events go out on a thread pool
        "assert 'NNCF_CI' not in os.environ and sys.modules.get('openvino_telemetry', 0) is not None\n"
        "print('converted')\n"
    )
    proc = subprocess.run([sys.executable, "-c", GUARDED.format(guard=str(GUARD)) + code],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and "converted" in proc.stdout, proc.stderr[-2000:]
    assert not log.exists() or not log.read_text(), log.read_text()[:500]
    assert not (tmp_path / "home" / "intel").exists()  # no client id or usage counter in the user's home


SETUPS = {  # how the guard gets installed: the entry points' configure() (before or after Ultralytics' trainer
    # module bound check_amp), or a user's own YOLO.train() with our callbacks, whose first event installs it
    "configure-first": "offline.configure()\nfrom ultralytics.engine import trainer\n",
    "trainer-first": "from ultralytics.engine import trainer\noffline.configure()\n",
    "callbacks": "from ultralytics.engine import trainer\n"
                 "from yoloprune.callbacks.distill import DistillCallbacks\n"
                 "DistillCallbacks(torch.nn.Linear(1, 1)).callbacks['on_pretrain_routine_start'](None)\n",
}


@pytest.mark.parametrize("setup", SETUPS)
def test_offline_amp_check_attempts_no_download(tmp_path, setup):
    """Ultralytics' AMP check (every CUDA training with amp=True) looks up github.com for yolo26n.pt even with
    YOLO_OFFLINE=1; offline mode makes that download fail at once, so Ultralytics takes its own offline path
    (AMP kept on, its warning) without a network attempt. (A meta-device model stands in for a CUDA one here:
    neither CPU nor MPS, so the check goes on to its download.)"""
    log = tmp_path / "net.log"
    env = _clean_env(tmp_path, log)
    env.update(YOLOPRUNE_HOME=str(tmp_path / "cache"), YOLOPRUNE_OFFLINE="1")
    code = (
        "import torch, yoloprune\n"
        "from yoloprune import offline\n"
        + SETUPS[setup] +
        "from ultralytics.utils import downloads\n"
        "real = downloads.safe_download\n"
        "print('amp', trainer.check_amp(torch.nn.Linear(1, 1, device='meta')))\n"
        "assert downloads.safe_download is real  # given back\n"
    )
    proc = subprocess.run([sys.executable, "-c", GUARDED.format(guard=str(GUARD)) + code], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)  # cwd: no stray weights/yolo26n.pt
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "amp True" in proc.stdout  # Ultralytics' offline outcome: AMP stays on
    assert "Offline and unable to download" in proc.stdout + proc.stderr
    assert not log.exists() or not log.read_text(), log.read_text()[:500]


def test_importing_every_module_changes_nothing(tmp_path):
    """No module changes the environment, loads an export backend or writes under HOME when imported
    (Ultralytics' own import writes its settings.json under ~/.config/Ultralytics: that file is its, not ours)."""
    import pkgutil

    import yoloprune

    names = sorted(m.name for m in pkgutil.walk_packages(yoloprune.__path__, "yoloprune.") if "device_bench" not in m.name)
    log = tmp_path / "net.log"
    env = _clean_env(tmp_path, log)
    env.pop("NNCF_CI", None)
    code = (
        "import importlib, json, os, sys\n"
        "import ultralytics\n"  # its own import-time effects first (it sets OMP_NUM_THREADS, writes its settings)
        "before = dict(os.environ)\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        "after = dict(os.environ)\n"
        "heavy = sorted({m.split('.')[0] for m, v in sys.modules.items() if v is not None}"
        " & {'openvino', 'coremltools', 'tensorrt', 'nncf', 'onnxruntime'})\n"
        "print(json.dumps({'changed': sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k)),"
        " 'heavy': heavy, 'hidden': [m for m, v in sys.modules.items() if v is None and 'telemetry' in m]}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen == {"changed": [], "heavy": [], "hidden": []}, seen
    written = sorted(str(p.relative_to(tmp_path / "home")) for p in (tmp_path / "home").rglob("*") if p.is_file())
    assert written == [".config/Ultralytics/settings.json"], written
