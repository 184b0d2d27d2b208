"""Bad input gets one clear error naming the fix, and nothing the user owns is touched."""

import subprocess
import sys

import pytest

from conftest import sha256


@pytest.fixture()
def damaged(tmp_path, dense_ckpt):
    data = dense_ckpt.read_bytes()
    files = {
        "missing": tmp_path / "nope.pt",
        "corrupt": tmp_path / "corrupt.pt",
        "truncated": tmp_path / "truncated.pt",
        "empty": tmp_path / "empty.pt",
        "not_a_model": tmp_path / "dict.pt",
    }
    files["corrupt"].write_bytes(b"\x89PNG not a checkpoint" * 100)
    files["truncated"].write_bytes(data[: len(data) // 2])
    files["empty"].write_bytes(b"")
    import torch

    torch.save({"weights": [1, 2, 3]}, files["not_a_model"])
    return files


@pytest.mark.parametrize("kind", ["missing", "corrupt", "truncated", "empty", "not_a_model"])
def test_bad_checkpoints(kind, damaged, tmp_path):
    from yoloprune import prune
    from yoloprune.errors import YoloPruneError

    path = damaged[kind]
    before = sha256(path) if path.exists() else None
    with pytest.raises(YoloPruneError) as e:
        prune(path, project=tmp_path / "out", name="x", imgsz=64)
    message = str(e.value)
    assert str(path) in message and "\n" not in message
    assert any(w in message for w in ("not found", "truncated", "no Ultralytics model"))
    assert not (tmp_path / "out").exists()  # nothing written
    assert (sha256(path) if path.exists() else None) == before


@pytest.mark.parametrize(
    "options,match",
    [
        ({"amount": 0.0}, "strictly between 0 and 1"),
        ({"amount": 1.0}, "strictly between 0 and 1"),
        ({"amount": -0.2}, "strictly between 0 and 1"),
        ({"amount": 1.5}, "strictly between 0 and 1"),
        ({"amount": "half"}, "must be of type"),
        ({"criterion": "magic"}, "unknown criterion 'magic': use auto or one of l1, l2, bn_scale, taylor, taylor_raw, lamp, random"),
        ({"target": "flops"}, "unknown target"),
        ({"allocation": "greedy"}, "unknown allocation"),
        ({"finetune_lr": "reset"}, "finetune_lr.*option of pruning while training"),
        ({"round_to": 0}, "round_to"),
        ({"imgsz": 100}, "multiple of 32"),
        ({"skip": (1.5,)}, "skip entries"),
    ],
)
def test_bad_config(options, match, dense_ckpt, tmp_path):
    from yoloprune import prune
    from yoloprune.errors import ConfigError

    before = sha256(dense_ckpt)
    with pytest.raises(ConfigError, match=match):
        prune(dense_ckpt, project=tmp_path / "out", name="x", **options)
    assert not (tmp_path / "out").exists() and sha256(dense_ckpt) == before


def test_unreachable_target_leaves_model_untouched():
    import torch

    from models import build
    from yoloprune import PruneConfig
    from yoloprune.core.prune import prune_
    from yoloprune.errors import ConfigError

    model = build("yolov8n.yaml")
    state = {k: v.clone() for k, v in model.state_dict().items()}
    types = [type(m) for m in model.modules()]
    with pytest.raises(ConfigError, match="reachable range"):
        prune_(model, PruneConfig(target="macs", amount=0.02, imgsz=64))
    assert [type(m) for m in model.modules()] == types
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())


def test_unknown_skip_layer(dense_ckpt, tmp_path):
    from yoloprune import prune
    from yoloprune.errors import ConfigError

    with pytest.raises(ConfigError, match="skip names no layer"):
        prune(dense_ckpt, project=tmp_path, name="x", skip=(99,), imgsz=64)


@pytest.mark.parametrize("model,match", [("yolo11n-seg.yaml", "segment"), ("yolo11n-cls.yaml", "classify"),
                                         ("rtdetr-l.yaml", "detect"), ("yolov10n.yaml", "YOLOv10")])
def test_unsupported_model_via_api(model, match, tmp_path):
    from yoloprune import prune
    from yoloprune.errors import YoloPruneError

    with pytest.raises(YoloPruneError, match=match):
        prune(model, project=tmp_path / "out", name="x", imgsz=64)
    assert not (tmp_path / "out").exists()


def test_taylor_without_data(dense_ckpt, tmp_path):
    from yoloprune import prune
    from yoloprune.errors import ConfigError

    with pytest.raises(ConfigError, match="needs real data: add data="):
        prune(dense_ckpt, project=tmp_path, name="x", criterion="taylor", imgsz=64)


def test_atomic_save_keeps_previous_file_on_failure(tmp_path, monkeypatch):
    import torch

    from yoloprune.io import write_torch_atomic as atomic_save

    target = tmp_path / "pruned.pt"
    atomic_save({"good": 1}, target)
    good = sha256(target)

    class Boom:
        def __reduce__(self):
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_save({"bad": Boom()}, target)
    assert sha256(target) == good and torch.load(target) == {"good": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["pruned.pt"]  # no temporary file left behind
