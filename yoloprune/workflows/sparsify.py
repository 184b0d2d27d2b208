"""Unstructured sparsity as a workflow: a checkpoint in, ``sparse.pt`` + ``prune.json`` in a run folder out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .. import offline
from ..core.config import from_options
from ..core.unstructured import SparsityReport, sparsify_
from ..errors import ConfigError
from ..integrations.ultralytics.model_io import deployment_args, load_model, save_pruned
from ..io import run_dir, write_json_atomic


@dataclass(frozen=True)
class SparsifyConfig:
    """``amount``: fraction of the conv weights (all but the Detect outputs) zeroed, smallest magnitude first."""

    amount: float = 0.5

    def __post_init__(self):
        if isinstance(self.amount, bool) or not isinstance(self.amount, (int, float)) or not 0 < self.amount < 1:
            raise ConfigError(f"amount={self.amount!r} must be strictly between 0 and 1 (fraction of weights zeroed)")


@dataclass(frozen=True)
class SparsifyResult:
    run_dir: Path
    checkpoint: Path  # sparse.pt
    report_json: Path  # prune.json
    report: SparsityReport


def sparsify(model: str | Path, config: SparsifyConfig | None = None, *, project: str | Path = "runs/prune",
             name: str = "exp", exist_ok: bool = False, **options) -> SparsifyResult:
    """Zero ``config.amount`` of ``model``'s conv weights globally by magnitude; export it to CoreML to store them
    sparse (``yolo-prune export format=coreml``). Dense runtimes run it as fast as the dense model."""
    offline.configure_if_requested()  # YOLOPRUNE_OFFLINE=1 only
    config = from_options(SparsifyConfig, config, options)
    net, ckpt = load_model(model)
    report = sparsify_(net, config.amount)
    out = run_dir(project, name, exist_ok)
    meta = {"method": "unstructured", "config": {"amount": config.amount}, "report": report.to_dict()}
    checkpoint = save_pruned(net, out / "sparse.pt", source=model, meta=meta, train_args=deployment_args(ckpt))
    report_json = write_json_atomic({"method": "unstructured", **report.to_dict(), "source": str(model),
                                     "checkpoint": str(checkpoint)}, out / "prune.json")
    return SparsifyResult(out, checkpoint, report_json, report)
