"""Fine-tune a pruned checkpoint with Ultralytics' trainer, keeping its pruned architecture."""

from __future__ import annotations

from pathlib import Path


def finetune(model: str | Path, data: str | Path, epochs: int = 10, **train_args) -> Path:
    """Train ``model`` (a pruned ``.pt``) on ``data``; return the run's ``weights/best.pt``.

    ``train_args`` go to ``YOLO.train`` unchanged (``imgsz``, ``batch``, ``project``, ``name``, ...).
    """
    from . import offline  # noqa: PLC0415

    offline.configure()
    from ultralytics.utils import LOGGER  # noqa: PLC0415

    from .checkpoint import load_model  # noqa: PLC0415
    from .data import resolve_dataset  # noqa: PLC0415
    from .trainer import YOLO, is_pruned  # noqa: PLC0415

    net, _ = load_model(model)  # clear errors for missing / corrupt files before Ultralytics sees them
    if not is_pruned(net):
        LOGGER.warning(f"yoloprune: {model} was not pruned by yoloprune; training it as a normal model")
    if train_args.get("project"):  # like yolo-prune prune: relative to the working directory, not runs_dir/detect
        train_args["project"] = str(Path(train_args["project"]).resolve())
    yolo = YOLO(str(model))
    yolo.train(data=str(resolve_dataset(data)), epochs=epochs, **train_args)
    best = Path(yolo.trainer.best)
    return best if best.exists() else Path(yolo.trainer.last)
