"""Fine-tune a pruned checkpoint with Ultralytics' trainer, keeping its pruned architecture."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ultralytics.utils import LOGGER

from .. import offline
from ..core.config import DISTILL, from_options
from ..data.registry import resolve_dataset
from ..errors import ConfigError
from ..callbacks.distill import DistillCallbacks
from ..integrations.ultralytics.model_io import is_pruned, load_model
from ..integrations.ultralytics.trainer import YOLO
from .legacy import config_and_data


@dataclass(frozen=True)
class FinetuneConfig:
    """How to fine-tune: ``epochs``; optionally distil a dense ``teacher`` checkpoint (same classes) into the
    model with ``distill`` = logit | feature | both (yoloprune's), or ``native``: Ultralytics' own distillation
    (a projector per neck level from the pruned widths to the teacher's, score-weighted L2 on the features).
    ``distill_weight`` weighs the distillation term against the Ultralytics loss (default: 1.0 for yoloprune's,
    Ultralytics' ``dis`` default for ``native``)."""

    epochs: int = 10
    teacher: str | None = None
    distill: str = "none"
    distill_weight: float | None = None

    def __post_init__(self):
        if isinstance(self.epochs, bool) or not isinstance(self.epochs, int) or self.epochs < 1:
            raise ConfigError(f"epochs={self.epochs!r} must be an integer >= 1")
        if self.distill not in DISTILL:  # native: Ultralytics' own (its distill_model= and dis=)
            raise ConfigError(f"distill={self.distill!r}: use one of {', '.join(DISTILL)}")
        if self.distill != "none" and self.teacher is None:
            raise ConfigError(f"distill={self.distill} needs teacher=<dense checkpoint .pt>")
        if self.distill_weight is not None and (isinstance(self.distill_weight, bool) or not isinstance(
                self.distill_weight, (int, float)) or self.distill_weight <= 0):
            raise ConfigError(f"distill_weight must be a number > 0, got {self.distill_weight!r}")
        if self.teacher is not None:
            object.__setattr__(self, "teacher", str(self.teacher))


@dataclass(frozen=True)
class FinetuneReport:
    """What a fine-tune reached: the epochs it trained and the validation metrics of its best epoch
    (Ultralytics' names, e.g. ``metrics/mAP50-95(B)``)."""

    epochs: int
    metrics: dict = field(default_factory=dict)

    @property
    def map50_95(self) -> float | None:
        return self.metrics.get("metrics/mAP50-95(B)")


@dataclass(frozen=True)
class FinetuneResult:
    run_dir: Path
    checkpoint: Path  # weights/best.pt (weights/last.pt when no epoch was validated)
    report: FinetuneReport | None = None


def finetune(model: str | Path, config: FinetuneConfig | None = None, *legacy, data: str | Path | None = None,
             train_args: dict | None = None, project: str | Path | None = None, name: str | None = None,
             exist_ok: bool = False, callbacks: dict | None = None, **options) -> FinetuneResult:
    """Train ``model`` (a pruned ``.pt``) on ``data`` with ``config``; the run folder and its best checkpoint.

    ``options`` are :class:`FinetuneConfig` fields when no ``config`` is given (both is an error).
    ``train_args`` go to ``YOLO.train`` unchanged (``imgsz``, ``batch``, ``lr0``, ...). The run folder is
    ``project/name`` (a new ``name2``, ... unless ``exist_ok``), as in Ultralytics; without ``project`` it is
    where Ultralytics puts your training runs (its ``runs_dir`` setting). ``callbacks`` (``{event: function}``,
    Ultralytics' events) are added to the run.
    """
    offline.configure_if_requested()  # YOLOPRUNE_OFFLINE=1 only
    config, data = config_and_data("finetune", config, legacy, data)
    config = from_options(FinetuneConfig, config, options)
    if data is None:
        raise ConfigError("finetune needs data=<dataset name or data YAML>")
    where = {"project": project, "name": name, "exist_ok": exist_ok or None}
    train_args = {**{k: v for k, v in where.items() if v is not None}, **(train_args or {})}
    net, _ = load_model(model)  # clear errors for missing / corrupt files before Ultralytics sees them
    if not is_pruned(net):
        LOGGER.warning(f"yoloprune: {model} was not pruned by yoloprune; training it as a normal model")
    data_yaml = resolve_dataset(data)
    yolo = YOLO(str(model))
    if config.distill != "none":
        dense, _ = load_model(config.teacher)
        if getattr(dense.model[-1], "nc", None) != getattr(net.model[-1], "nc", None):
            raise ConfigError(f"teacher {config.teacher} predicts {dense.model[-1].nc} classes, {model} "
                              f"{net.model[-1].nc}: distil from the dense model the pruned one came from")
        if config.distill == "native":  # Ultralytics wraps the pruned student itself (its projectors: its widths)
            train_args = {"distill_model": str(config.teacher), **train_args}
            if config.distill_weight is not None:
                train_args["dis"] = config.distill_weight
        else:
            weight = 1.0 if config.distill_weight is None else config.distill_weight
            for event, fn in DistillCallbacks(dense, config.distill, weight).callbacks.items():
                yolo.add_callback(event, fn)
    for event, fn in (callbacks or {}).items():
        yolo.add_callback(event, fn)
    if train_args.get("project"):  # like yolo-prune prune: relative to the working directory, not runs_dir/detect
        train_args["project"] = str(Path(train_args["project"]).resolve())
    yolo.train(data=str(data_yaml), epochs=config.epochs, **train_args)
    best = Path(yolo.trainer.best)
    metrics = {k: float(v) for k, v in (getattr(yolo.trainer, "metrics", None) or {}).items()}
    return FinetuneResult(Path(yolo.trainer.save_dir), best if best.exists() else Path(yolo.trainer.last),
                          FinetuneReport(config.epochs, metrics))
