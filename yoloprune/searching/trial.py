"""One trial: what it tries (:class:`TrialSpec`), everything a worker needs to run it (:class:`TrialJob`, picklable),
what it reached (:class:`Trial`), and the trial function (:func:`run_trial`), the same here and on Ray."""

from __future__ import annotations

import math
import shutil
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable

from ..core.config import ProgressiveConfig, PruneConfig
from ..workflows.finetune import finetune
from ..workflows.latency import LatencyCheck
from ..workflows.oneshot import prune
from ..workflows.progressive import prune_progressive

MAP_KEY = "metrics/mAP50-95(B)"


@dataclass(frozen=True)
class TrialSpec:
    """One point of the search space: the latency kept and the recipe."""

    amount: float
    schedule: str = "progressive"
    criterion: str = "taylor_raw"
    allocation: str = "global"
    distill: str = "none"

    @property
    def recipe(self) -> tuple:
        return (self.schedule, self.criterion, self.allocation, self.distill)

    def with_recipe(self, recipe: tuple) -> TrialSpec:
        return replace(self, **dict(zip(("schedule", "criterion", "allocation", "distill"), recipe)))

    @property
    def label(self) -> str:
        return f"{self.amount:.3f} {' '.join(self.recipe)}"

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class TrialJob:
    """Everything the trial function needs, picklable (plain paths and values): a worker on another machine runs
    it from this alone (the paths on storage every node sees)."""

    index: int
    spec: TrialSpec
    model: str
    data: str
    folder: str  # the trial's run folder
    epochs: int
    imgsz: int
    latency_table: str
    budget: float  # the amount to ask the table for: the closed loop on the dense model corrected it already
    hardware: str = "intel-cpu"
    format: str = "openvino:fp32"
    seed: int = 0
    train_args: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"trial{self.index:03d}"

    @property
    def run_dir(self) -> Path:
        return Path(self.folder) / self.name

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> TrialJob:
        return cls(**{**d, "spec": TrialSpec(**d["spec"])})


@dataclass(frozen=True)
class Trial:
    """A trial's record in ``search.json``: its spec, the budget and latency measured, the validation mAP50-95
    after each epoch, and whether it ran every epoch or was stopped."""

    index: int
    spec: TrialSpec
    budget: float | None = None  # the amount asked of the table
    closed_loop: float | None = None  # the dense model pruned to the budget, measured (fraction of dense)
    maps: tuple = ()  # validation mAP50-95 after epoch 1, 2, ... (None: not yet fully pruned)
    best: float | None = None  # its best.pt validated when training ended (Ultralytics' final evaluation)
    status: str = "running"  # running | finished | stopped | failed
    stopped_by: str = ""  # budget (could not reach max_drop) | front (a faster trial was more accurate)
    checkpoint: str = ""
    latency: float | None = None  # the trial's final model measured (fraction of dense)
    latency_ms: float | None = None
    dense_ms: float | None = None
    error: str = ""
    wall_s: float | None = None

    @property
    def map(self) -> float | None:
        """Its ``best.pt``'s validation mAP50-95 (else the best of its fully pruned epochs)."""
        if self.best is not None:
            return self.best
        seen = [m for m in self.maps if m is not None]
        return max(seen) if seen else None

    @property
    def planned(self) -> float | None:
        """The latency the trial was cut for, known before it trains: the closed loop's measurement, else the
        table's (another device's table)."""
        return self.closed_loop if self.closed_loop is not None else self.budget

    @property
    def timed(self) -> float | None:
        """Its latency on the front: the final model measured, else (another device) the planned one."""
        return self.latency if self.latency is not None else self.planned

    @property
    def speed(self) -> float | None:
        return 1 / self.timed if self.timed else None

    def to_dict(self) -> dict:
        d = asdict(self)
        d["maps"] = list(self.maps)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Trial:
        return cls(**{**d, "spec": TrialSpec(**d["spec"]), "maps": tuple(d.get("maps", ()))})


def run_trial(job: TrialJob, report: Callable[[int, float, bool], bool]) -> Path:
    """Prune ``job.model`` with the job's recipe to its budget and fine-tune it ``job.epochs``; after every epoch of
    the fully pruned model ``report(epoch, mAP50-95, False)`` and stop when it returns False; at the end
    ``report(epoch, mAP50-95 of best.pt, True)``. The trial's best checkpoint. A folder left by an interrupted run
    of the same trial is removed first (its ``results.csv`` and ``best.pt`` are not this run's)."""
    spec = job.spec
    cut = PruneConfig(target="latency", amount=job.budget, criterion=spec.criterion, allocation=spec.allocation,
                      imgsz=job.imgsz, latency_table=job.latency_table, seed=job.seed)
    check = LatencyCheck(hardware=job.hardware, format=job.format, closed_loop=False)  # the driver times
    callbacks = {"on_fit_epoch_end": _reporter(report)}
    train_args = {"seed": job.seed, "deterministic": True, "imgsz": job.imgsz, **job.train_args,
                  "val": True}  # every epoch validated: halving judges it
    run = job.run_dir
    for stale in (run, run.with_name(f"{run.name}-cut")):
        shutil.rmtree(stale, ignore_errors=True)
    if spec.schedule == "progressive":
        config = ProgressiveConfig(prune=cut, distill=spec.distill)
        return prune_progressive(job.model, config, data=job.data, epochs=job.epochs, train_args=train_args,
                                 project=run.parent, name=run.name, exist_ok=True, check=check,
                                 callbacks=callbacks).checkpoint
    pruned = prune(job.model, cut, data=job.data, project=run.parent, name=f"{run.name}-cut", exist_ok=True,
                   check=check)
    teacher = job.model if spec.distill != "none" else None
    return finetune(pruned.checkpoint, data=job.data, epochs=job.epochs, teacher=teacher, distill=spec.distill,
                    train_args=train_args, project=run.parent, name=run.name, exist_ok=True,
                    callbacks=callbacks).checkpoint


def _reporter(report: Callable[[int, float, bool], bool]):
    """An ``on_fit_epoch_end`` callback: each epoch's validation mAP50-95 once the model is fully pruned (a
    progressive run keeps ``best_fitness`` at infinity until its last step), the trainer stopped after the epoch when
    ``report`` says so. Once training stops, the event's next call is Ultralytics' final evaluation of ``best.pt``
    (at "epoch + 1"): reported as final."""
    state = {"done": False}

    def on_fit_epoch_end(trainer):
        metrics = getattr(trainer, "metrics", None) or {}
        if MAP_KEY not in metrics:
            return
        value = float(metrics[MAP_KEY])
        if state["done"]:
            report(trainer.epoch, value, True)  # the final evaluation: best.pt
            return
        pruning = isinstance(trainer.best_fitness, float) and math.isinf(trainer.best_fitness)
        if not pruning and not report(trainer.epoch + 1, value, False):
            trainer.stop = True
        state["done"] = bool(trainer.stop)

    return on_fit_epoch_end
