"""Loading models with clear errors, and writing pruned checkpoints atomically in Ultralytics' format.

A pruned checkpoint pickles only Ultralytics and torch classes (the split-block adapters are merged
back before saving), so it loads with stock Ultralytics, ``yoloprune`` not installed. Its
``yoloprune`` entry records the pruning config, report and the dense source.
"""

from __future__ import annotations

from copy import deepcopy
from datetime import datetime
from pathlib import Path

from torch import nn
from ultralytics import __version__
from ultralytics.nn.tasks import DetectionModel, guess_model_task, load_checkpoint, yaml_model_load

from ...errors import CheckpointError, UnsupportedModelError
from ...io import write_torch_atomic


def load_model(source: str | Path, nc: int | None = None) -> tuple[nn.Module, dict]:
    """A detection model from a ``.pt`` checkpoint or a model ``.yaml``; returns ``(model, checkpoint dict)``.

    ``nc`` sets the class count of a model built from a YAML (ignored for checkpoints).
    Never downloads: a missing file is an error, not a hub look-up.
    """
    path = Path(str(source))
    suffix = path.suffix.lower()
    if suffix in {".yaml", ".yml"}:
        try:
            cfg = yaml_model_load(str(source))  # a path, or a bundled name such as yolo11n.yaml (scale n)
        except FileNotFoundError as e:
            raise CheckpointError(f"model YAML {source!r} not found: give a path or a bundled name like yolo11n.yaml") from e
        task = guess_model_task(cfg)
        if task != "detect":
            raise UnsupportedModelError(f"{source} is a {task} model; yoloprune prunes detect models (e.g. yolo11n.yaml)")
        return DetectionModel(cfg, nc=nc, verbose=False), {"train_args": {"model": str(source), "task": "detect"}}
    if suffix != ".pt":
        raise CheckpointError(f"model={source!r}: expected an Ultralytics .pt checkpoint or a model .yaml")
    if not path.is_file():
        raise CheckpointError(f"checkpoint {source} not found: check the path (yoloprune never downloads weights)")
    try:
        model, ckpt = load_checkpoint(str(path))
    except Exception as e:  # torch/pickle raise many types for damaged files; all mean the same to the user
        raise CheckpointError(
            f"{source} is not a loadable Ultralytics checkpoint (empty, truncated or corrupted: {type(e).__name__}): "
            "re-export or re-train it"
        ) from e
    if not isinstance(ckpt, dict) or not isinstance(model, nn.Module):
        raise CheckpointError(f"{source} holds no Ultralytics model: give a checkpoint saved by Ultralytics or yoloprune")
    return model.float().cpu(), ckpt


def deployment_args(ckpt: dict) -> dict:
    """The training arguments a derived checkpoint keeps from its source: what the model is and was trained on."""
    return {k: v for k, v in (ckpt.get("train_args") or {}).items() if k in {"model", "data", "imgsz", "task"}}


def save_pruned(model: nn.Module, path: str | Path, *, source: str | Path, meta: dict, train_args: dict | None = None) -> Path:
    """Write ``model`` as an Ultralytics checkpoint at ``path``; refuse to write over ``source``."""
    path = Path(path)
    if Path(str(source)).exists() and path.resolve() == Path(str(source)).resolve():
        raise CheckpointError(f"refusing to overwrite the input checkpoint {source}: choose another output path")
    # final checkpoints are stored like Ultralytics' strip_optimizer() leaves best.pt: FP16 weights, no optimizer
    # or EMA (an FP32 pruned file was larger than the dense best.pt it came from); loading casts back to FP32
    snapshot = deepcopy(model).float().cpu().eval().half()
    snapshot.criterion = None
    meta = {**meta, "source": str(source)}
    snapshot.yoloprune = meta  # travels with the module through Ultralytics' own checkpoints (EMA deepcopies)
    snapshot.requires_grad_(True)
    ckpt = {
        "date": datetime.now().isoformat(),
        "version": __version__,
        "model": snapshot,
        "ema": None,
        "optimizer": None,
        "epoch": -1,
        "best_fitness": None,
        "train_args": {**(train_args or {}), "task": "detect"},
        "yoloprune": meta,
    }
    return write_torch_atomic(ckpt, path)


def is_pruned(model) -> bool:
    """True for a model that carries yoloprune's record (pruned, or mid-schedule)."""
    return getattr(model, "yoloprune", None) is not None
