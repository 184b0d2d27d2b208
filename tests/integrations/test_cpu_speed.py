"""CPU training speed: yoloprune's trainer trains channels-last on all cores; checkpoints stay stock."""

import os

import pytest
import torch

IMGSZ = 64


def _nhwc(model) -> bool:
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3) and m.in_channels > 1]
    return bool(convs) and all(m.weight.is_contiguous(memory_format=torch.channels_last) for m in convs)


def test_cpu_threads_rule(monkeypatch):
    from yoloprune import offline
    from yoloprune.integrations.ultralytics.cpu_speed import cpu_threads

    monkeypatch.setattr(offline, "USER_THREADS", "")
    assert cpu_threads(workers=0) == os.cpu_count()  # the loader runs in-process: every core trains
    assert cpu_threads(workers=2) is None  # leave Ultralytics' cpu_count - 1 (a core for the workers)
    monkeypatch.setattr(offline, "USER_THREADS", "3")
    assert cpu_threads(workers=0) == 3  # the user's OMP_NUM_THREADS wins


def test_trainer_trains_channels_last_and_saves_stock_nchw(mini_data, tmp_path):
    from ultralytics import YOLO as StockYOLO
    from ultralytics.utils.torch_utils import unwrap_model

    from yoloprune import YOLO
    from yoloprune.integrations.ultralytics.cpu_speed import add_cpu_training_speed, callbacks

    seen = {}
    model = YOLO("yolov8n.yaml")
    add_cpu_training_speed(model)
    add_cpu_training_speed(model)  # registering on the model too: still one callback per event on the trainer
    model.add_callback("on_train_epoch_end", lambda t: seen.update(
        nhwc=_nhwc(unwrap_model(t.model)), threads=torch.get_num_threads(),
        registered=sum(f is callbacks["on_pretrain_routine_end"] for f in t.callbacks["on_pretrain_routine_end"])))
    model.train(data=str(mini_data), epochs=1, imgsz=IMGSZ, batch=8, workers=0, plots=False, val=False,
                project=str(tmp_path), name="run", exist_ok=True, amp=False)
    assert seen["nhwc"] and seen["registered"] == 1
    from yoloprune import offline

    expected = int(offline.USER_THREADS) if (offline.USER_THREADS or "").isdigit() else os.cpu_count()
    assert seen["threads"] == expected
    reloaded = StockYOLO(str(model.trainer.last))  # stock Ultralytics loads it; weights are plain NCHW
    assert not _nhwc(reloaded.model)
    x = torch.rand(1, 3, IMGSZ, IMGSZ)
    nchw = reloaded.model.float().eval()
    with torch.no_grad():
        ref = nchw(x)[0]
        nhwc = nchw.to(memory_format=torch.channels_last)(x)[0]
    assert torch.allclose(ref, nhwc, atol=1e-4, rtol=1e-4)  # same function in the other memory order
