"""On an NVIDIA GPU, the way most users train: the callbacks with AMP, the core verb on a CUDA model, a fine-tune
with distillation on device 0. Skipped without CUDA (CI has none); on a GPU machine: ``pytest tests/integrations/
test_cuda.py``. ``YOLOPRUNE_TEST_DEVICE=cpu`` runs the same checks on the CPU (AMP off there) to debug this file.
"""

import math
import os

import pytest
import torch

from yoloprune.core.stats import conv_widths

DEVICE = os.environ.get("YOLOPRUNE_TEST_DEVICE", "cuda")
CUDA = DEVICE == "cuda"
pytestmark = pytest.mark.skipif(CUDA and not torch.cuda.is_available(),
                                reason="needs an NVIDIA GPU (torch.cuda.is_available() is False)")
IMGSZ = 64
TRAIN = dict(device=0 if CUDA else "cpu", imgsz=IMGSZ, batch=8, workers=0, plots=False, exist_ok=True)


def _devices(module) -> set[str]:
    return {t.device.type for t in (*module.parameters(), *module.buffers())}


class GpuProbe:
    """The trainer's state at each epoch's start (after a prune step) and end (after its batches ran under AMP)."""

    def __init__(self):
        self.rows = []

    def on_train_epoch_start(self, trainer):
        from ultralytics.utils.torch_utils import unwrap_model

        model = unwrap_model(trainer.model)
        in_optimizer = [p for g in trainer.optimizer.param_groups for p in g["params"]]
        self.rows.append({
            "epoch": trainer.epoch,
            "amp": bool(trainer.amp),
            "scaler": trainer.scaler.is_enabled(),
            "devices": _devices(model) | _devices(trainer.ema.ema) | {p.device.type for p in in_optimizer},
            "widths": conv_widths(model),
            "ema_widths": conv_widths(trainer.ema.ema),
            "optimizer_is_model": {id(p) for p in model.parameters() if p.requires_grad} <= {id(p) for p in in_optimizer}
            <= {id(p) for p in model.parameters()},  # covers the trainable parameters, holds none of an old model
        })

    def on_train_epoch_end(self, trainer):
        loss = trainer.tloss.values() if isinstance(trainer.tloss, dict) else [trainer.tloss]
        self.rows[-1]["loss_finite"] = all(bool(torch.isfinite(torch.as_tensor(v)).all()) for v in loss)
        self.rows[-1]["scale"] = trainer.scaler.get_scale() if trainer.scaler.is_enabled() else 1.0
        state = [s for s in trainer.optimizer.state.values() if s]  # moments of the parameters now in the model
        self.rows[-1]["optimizer_state_devices"] = {t.device.type for s in state for t in s.values()
                                                    if isinstance(t, torch.Tensor) and t.dim() > 0}


@pytest.fixture(scope="module", params=[True, "bf16"] if CUDA else [True], ids=["amp-fp16", "amp-bf16"][:2 if CUDA else 1])
def gpu_run(request, mini_data, tmp_path_factory):
    from ultralytics import YOLO

    from yoloprune.callbacks import add_pruning_callbacks

    model = YOLO("yolov8n.yaml")
    cb = add_pruning_callbacks(model, target="macs", amount=0.5, steps=2, start_epoch=1, end_epoch=2, imgsz=IMGSZ,
                               distill="both")
    probe = GpuProbe()
    model.add_callback("on_train_epoch_start", probe.on_train_epoch_start)
    model.add_callback("on_train_epoch_end", probe.on_train_epoch_end)
    metrics = model.train(data=str(mini_data), epochs=4, project=str(tmp_path_factory.mktemp("gpu")), name="run",
                          warmup_epochs=0, amp=request.param, **TRAIN)
    return model, cb, probe, metrics, request.param


def test_callbacks_prune_an_amp_training_on_the_gpu(gpu_run):
    model, cb, probe, metrics, amp = gpu_run
    assert [h["at_epoch"] for h in cb.history] == [2, 3] and cb.complete  # 1-based
    assert abs(cb.history[-1]["macs_kept"] - 0.5) <= 0.015
    want = {"cuda"} if CUDA else {"cpu"}
    for row in probe.rows:
        if CUDA:  # fp16: Ultralytics' AMP check passed (offline too) and a grad scaler runs; bf16: autocast, no scaler
            assert row["amp"] and row["scaler"] is (amp is True), row
        assert row["devices"] == want, row  # model, EMA, optimizer: nothing left behind on another device
        assert row["widths"] == row["ema_widths"] and row["optimizer_is_model"], row["epoch"]
        assert row["loss_finite"] and math.isfinite(row["scale"]) and row["scale"] > 0, row
        assert row["optimizer_state_devices"] <= want, row
    assert len({tuple(r["widths"].values()) for r in probe.rows}) == 3  # dense, step 1, step 2
    assert math.isfinite(metrics.box.map) and metrics.box.map >= 0


def test_gpu_checkpoints_reload_pruned(gpu_run):
    from ultralytics import YOLO

    model, _, probe, _, _ = gpu_run
    for ckpt in (model.trainer.best, model.trainer.last):
        reloaded = YOLO(str(ckpt))  # loads on the CPU
        assert conv_widths(reloaded.model) == probe.rows[-1]["widths"] and _devices(reloaded.model) == {"cpu"}
        with torch.no_grad():  # runs there and on the training device
            for device in ("cpu", DEVICE):
                reloaded.model.float().to(device).eval()(torch.zeros(1, 3, IMGSZ, IMGSZ, device=device))


def test_prune_a_gpu_model_with_batches_from_a_cpu_loader(mini_batches):
    """``prune_`` on a model the user moved to the GPU, scored with a data criterion on batches from the CPU."""
    from models import build

    from yoloprune import PruneConfig, prune_

    model = build("yolov8n.yaml", nc=6).to(DEVICE)
    report = prune_(model, PruneConfig(criterion="taylor_raw", target="macs", amount=0.5, imgsz=IMGSZ),
                    batches=mini_batches)
    assert abs(report.macs_kept - 0.5) <= 0.015
    assert _devices(model) == {DEVICE}
    with torch.no_grad():
        out = model.eval()(torch.zeros(1, 3, IMGSZ, IMGSZ, device=DEVICE))
    assert (out[0] if isinstance(out, (list, tuple)) else out).device.type == DEVICE


def test_finetune_with_distillation_on_the_gpu(mini_data, tmp_path, dense_ckpt):
    from ultralytics import YOLO

    from yoloprune import finetune, prune

    pruned = prune(dense_ckpt, data=mini_data, target="macs", amount=0.5, imgsz=IMGSZ, project=tmp_path, name="p")
    seen = {}

    def watch(trainer):  # the distilling loss, on the training device, after the first epoch's batches
        from ultralytics.utils.torch_utils import unwrap_model

        model = unwrap_model(trainer.model)
        seen.update(device=trainer.device.type, kd=model.criterion.last_kd, teacher=_devices(model.criterion.teacher))

    from ultralytics.utils import callbacks as ucb

    ucb.default_callbacks["on_train_epoch_end"].append(watch)  # Ultralytics copies these into the trainer
    try:
        result = finetune(pruned.checkpoint, data=mini_data, epochs=2, teacher=dense_ckpt, distill="both",
                          train_args=dict(project=str(tmp_path), name="ft", amp=True, **TRAIN))
    finally:
        ucb.default_callbacks["on_train_epoch_end"].remove(watch)
    assert seen["device"] == DEVICE and seen["teacher"] == {DEVICE} and seen["kd"] > 0, seen
    tuned = YOLO(str(result.checkpoint))
    assert conv_widths(tuned.model) == conv_widths(YOLO(str(pruned.checkpoint)).model)  # still pruned after the GPU run
