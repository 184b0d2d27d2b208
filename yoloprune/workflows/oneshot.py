"""One-shot pruning: a ``.pt`` or ``.yaml`` in, ``pruned.pt`` + ``prune.json`` in a run folder out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .. import offline
from ..core.config import PruneConfig, from_options
from ..core.criteria import CRITERIA
from ..core.prune import PruneReport, prune_
from ..data.loaders import dataset_classes, detection_batches
from ..errors import ConfigError
from ..integrations.ultralytics.model_io import load_model, save_pruned
from ..io import run_dir, write_json_atomic


@dataclass(frozen=True)
class OneShotResult:
    run_dir: Path
    checkpoint: Path  # pruned.pt
    report_json: Path  # prune.json
    report: PruneReport


def prune(model: str | Path, config: PruneConfig | None = None, *, data: str | Path | None = None,
          project: str | Path = "runs/prune", name: str = "exp", exist_ok: bool = False, **options) -> OneShotResult:
    """Prune ``model`` (a ``.pt`` or ``.yaml``) once to ``config``'s target; write ``pruned.pt`` and ``prune.json``.

    ``options`` are :class:`PruneConfig` fields (``criterion``, ``target``, ``amount``, ...) when no
    ``config`` is given (both is an error). ``data`` (a dataset name such as ``shapes`` or a data YAML)
    feeds the criteria that need real batches, and sets the class count of a model built from a YAML.
    """
    offline.configure_if_requested()  # YOLOPRUNE_OFFLINE=1 only; otherwise the user's Ultralytics setup stays
    config = from_options(PruneConfig, config, options).resolved(has_data=data is not None)
    is_yaml = str(model).endswith((".yaml", ".yml"))
    net, ckpt = load_model(model, nc=dataset_classes(data) if is_yaml else None)
    batches = None
    if CRITERIA[config.criterion].needs_gradients:
        if data is None:
            raise ConfigError(f"criterion {config.criterion!r} needs real data: add data=<dataset name or YAML>")
        batches = detection_batches(data, imgsz=min(config.imgsz, 320))
    report = prune_(net, config, batches=batches)
    out = run_dir(project, name, exist_ok)
    meta = {"config": config.to_dict(), "report": report.to_dict()}
    train_args = {k: v for k, v in (ckpt.get("train_args") or {}).items() if k in {"model", "data", "imgsz", "task"}}
    checkpoint = save_pruned(net, out / "pruned.pt", source=model, meta=meta, train_args=train_args)
    summary = {**report.to_dict(), "source": str(model), "checkpoint": str(checkpoint)}
    report_json = write_json_atomic(summary, out / "prune.json")
    return OneShotResult(out, checkpoint, report_json, report)
