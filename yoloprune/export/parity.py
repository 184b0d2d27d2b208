"""Checks of an export against its PyTorch checkpoint: numeric parity on the same inputs, and mAP50-95."""

from __future__ import annotations

import contextlib
from pathlib import Path

import cv2
import numpy as np
import torch
from ultralytics import YOLO
from ultralytics.data.augment import LetterBox
from ultralytics.nn.autobackend import AutoBackend

from ..data.loaders import load_dataset


def sample_inputs(imgsz: int, data_yaml=None, n: int = 2) -> torch.Tensor:
    """``n`` letterboxed validation images (float, NCHW, [0, 1]) or, without data, seeded noise."""
    if data_yaml:
        val = Path(load_dataset(data_yaml)["val"])
        files = sorted(p for p in (val.rglob("*") if val.is_dir() else []) if p.suffix.lower() in {".jpg", ".png"})[:n]
        if files:
            ims = [LetterBox((imgsz, imgsz), auto=False)(image=cv2.imread(str(f))) for f in files]
            arr = np.stack([im[..., ::-1].transpose(2, 0, 1) for im in ims]).astype(np.float32) / 255
            return torch.from_numpy(np.ascontiguousarray(arr))
    return torch.rand(n, 3, imgsz, imgsz, generator=torch.Generator().manual_seed(0))


def _normalise(y: torch.Tensor, imgsz: int) -> torch.Tensor:
    """Comparable raw outputs: boxes / imgsz, scores as they are; end-to-end rows sorted by score."""
    y = y.float()
    if y.shape[-1] == 6:  # end-to-end (N, max_det, 6): x1 y1 x2 y2 score class, order may differ between runtimes
        order = y[..., 4].argsort(dim=-1, descending=True)
        y = torch.gather(y, 1, order.unsqueeze(-1).expand_as(y))
        return torch.cat([y[..., :4] / imgsz, y[..., 4:5]], -1)
    return torch.cat([y[:, :4] / imgsz, y[:, 4:]], 1)  # (N, 4 + nc, anchors)


def max_abs_error(checkpoint, exported, imgsz: int, data_yaml=None) -> float:
    x = sample_inputs(imgsz, data_yaml)
    model = YOLO(str(checkpoint)).model.float().eval()
    backend = AutoBackend(str(exported), device=torch.device("cpu"), verbose=False)
    errors = []
    for i in range(len(x)):
        im = x[i : i + 1]
        with torch.no_grad():
            ref = model(im)
            out = backend(im)
        ref = ref[0] if isinstance(ref, (list, tuple)) else ref
        out = out[0] if isinstance(out, (list, tuple)) else out
        out = torch.as_tensor(np.asarray(out)) if not isinstance(out, torch.Tensor) else out
        a, b = _normalise(ref, imgsz), _normalise(out.reshape(ref.shape), imgsz)
        errors.append(float((a - b).abs().max()))
    return max(errors)


def val_map(weights, data_yaml, imgsz: int, scope=None, batch: int = 1, split: str = "val") -> float:
    """mAP50-95 of any Ultralytics-loadable model on the dataset's validation split, or ``split`` (exports need
    batch 1).

    ``scope`` (a format's ``precision_scope(...)``) makes the runtime compute in the precision asked for.
    """
    with scope if scope is not None else contextlib.nullcontext():
        metrics = YOLO(str(weights), task="detect").val(data=str(data_yaml), imgsz=imgsz, batch=batch, plots=False,
                                                        verbose=False, workers=0, split=split)
    return float(metrics.box.map)
