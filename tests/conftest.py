"""Test-session setup: private caches, the network guard in this and every child process, shared fixtures."""

import importlib.util
import os
import sys
import tempfile
from pathlib import Path

import pytest

_SESSION_DIR = Path(tempfile.mkdtemp(prefix="yoloprune-tests-"))
GUARD_DIR = Path(__file__).parent / "netguard"
NETLOG = _SESSION_DIR / "network-attempts.log"

# before anything imports Ultralytics: private caches and config, and the guard for child processes
os.environ["YOLOPRUNE_HOME"] = str(_SESSION_DIR / "home")
os.environ["YOLO_CONFIG_DIR"] = str(_SESSION_DIR / "home" / "ultralytics")
os.environ["YOLOPRUNE_NETGUARD_LOG"] = str(NETLOG)
os.environ["PYTHONPATH"] = os.pathsep.join([str(GUARD_DIR), str(Path(__file__).parents[1]), os.environ.get("PYTHONPATH", "")])
os.environ.setdefault("OMP_NUM_THREADS", "1")  # tiny test tensors: threads only add sync overhead
NETLOG.touch()
_spec = importlib.util.spec_from_file_location("yoloprune_netguard", GUARD_DIR / "sitecustomize.py")
netguard = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(netguard)  # installs the guard in this process too

from yoloprune import offline  # noqa: E402

offline.configure()  # tests import Ultralytics directly too: do it the way a user of the library should


def network_attempts() -> list[str]:
    return [line for line in NETLOG.read_text().splitlines() if line.strip()]


def pytest_sessionfinish(session, exitstatus):
    attempts = network_attempts()
    if attempts:
        print("\nNETWORK ATTEMPTS DURING THE TEST SUITE:\n" + "\n".join(attempts), file=sys.stderr)
        session.exitstatus = 1


@pytest.fixture(scope="session")
def session_dir() -> Path:
    return _SESSION_DIR


@pytest.fixture(scope="session")
def mini_data() -> Path:
    """The tiny generated dataset (32 train / 16 val images at 128 px)."""
    from yoloprune.data import resolve_dataset

    return resolve_dataset("shapes-mini")


@pytest.fixture(scope="session")
def mini_batches(mini_data):
    """A few preprocessed training batches of shapes-mini at 64 px (for data-driven criteria)."""
    from yoloprune.data.loaders import detection_batches

    return list(__import__("itertools").islice(detection_batches(mini_data, imgsz=64, batch=4), 2))


def sha256(path) -> str:
    import hashlib

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def dense_ckpt(session_dir) -> Path:
    """A dense yolov8n checkpoint for shapes-mini's 6 classes, in Ultralytics' format."""
    import torch

    from models import build

    torch.manual_seed(0)
    path = session_dir / "dense" / "yolov8n-shapes.pt"
    path.parent.mkdir(parents=True, exist_ok=True)
    model = build("yolov8n.yaml", nc=6)
    model.names = {i: f"c{i}" for i in range(6)}
    torch.save({"model": model, "train_args": {"model": "yolov8n.yaml", "task": "detect", "imgsz": 64}, "epoch": -1}, path)
    return path


@pytest.fixture(scope="session")
def pruned_run(dense_ckpt, session_dir):
    """``yoloprune.prune`` of the dense checkpoint to half its MACs at 64 px."""
    from yoloprune import prune

    return prune(dense_ckpt, project=session_dir / "runs", name="pruned", target="macs", amount=0.5, imgsz=64)
