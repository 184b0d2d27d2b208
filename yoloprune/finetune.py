"""Fine-tune a pruned checkpoint with Ultralytics' trainer, keeping its pruned architecture."""

from __future__ import annotations

from pathlib import Path

DISTILL_MODES = ("none", "logit", "feature", "both")


def finetune(model: str | Path, data: str | Path, epochs: int = 10, teacher: str | Path | None = None,
             distill: str = "none", distill_weight: float = 1.0, **train_args) -> Path:
    """Train ``model`` (a pruned ``.pt``) on ``data``; return the run's ``weights/best.pt``.

    With ``teacher`` (a dense checkpoint with the same classes) and ``distill`` in logit / feature /
    both, the frozen teacher's outputs are distilled into the model (``distill_weight`` x KD added
    to the Ultralytics loss). ``train_args`` go to ``YOLO.train`` unchanged (``imgsz``, ``batch``,
    ``project``, ``name``, ...).
    """
    from . import offline  # noqa: PLC0415

    offline.configure_if_requested()
    from ultralytics.utils import LOGGER  # noqa: PLC0415

    from .checkpoint import load_model  # noqa: PLC0415
    from .data import resolve_dataset  # noqa: PLC0415
    from .errors import ConfigError  # noqa: PLC0415
    from .trainer import YOLO, is_pruned  # noqa: PLC0415

    if distill not in DISTILL_MODES:
        raise ConfigError(f"distill={distill!r}: use one of {', '.join(DISTILL_MODES)}")
    if distill != "none" and teacher is None:
        raise ConfigError(f"distill={distill} needs teacher=<dense checkpoint .pt>")
    if not (isinstance(distill_weight, (int, float)) and distill_weight > 0):
        raise ConfigError(f"distill_weight must be a number > 0, got {distill_weight!r}")
    net, _ = load_model(model)  # clear errors for missing / corrupt files before Ultralytics sees them
    if not is_pruned(net):
        LOGGER.warning(f"yoloprune: {model} was not pruned by yoloprune; training it as a normal model")
    data_yaml = resolve_dataset(data)
    yolo = YOLO(str(model))
    if distill != "none":
        from .callbacks.distill import DistillCallbacks  # noqa: PLC0415

        dense, _ = load_model(teacher)
        if getattr(dense.model[-1], "nc", None) != getattr(net.model[-1], "nc", None):
            raise ConfigError(f"teacher {teacher} predicts {dense.model[-1].nc} classes, {model} {net.model[-1].nc}: "
                              "distil from the dense model the pruned one came from")
        for event, fn in DistillCallbacks(dense, distill, distill_weight).callbacks.items():
            yolo.add_callback(event, fn)
    if train_args.get("project"):  # like yolo-prune prune: relative to the working directory, not runs_dir/detect
        train_args["project"] = str(Path(train_args["project"]).resolve())
    yolo.train(data=str(data_yaml), epochs=epochs, **train_args)
    best = Path(yolo.trainer.best)
    return best if best.exists() else Path(yolo.trainer.last)
