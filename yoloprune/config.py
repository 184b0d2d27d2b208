"""The one typed config that flows through the pruning engine (and later the callbacks and CLI)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace

from .errors import ConfigError

TARGETS = ("ratio", "macs", "params")
ALLOCATIONS = ("global", "local")
SPARSITY = ("none", "bn", "group")
DISTILL = ("none", "logit", "feature", "both")
FINETUNE_LR = ("restart", "continue")


@dataclass
class PruneConfig:
    """What to prune and how far.

    Attributes:
        criterion: importance criterion, a name from ``yoloprune.importance.CRITERIA``, or ``auto``
            (default): ``taylor_raw`` where real data is at hand (always in the callbacks, which use
            the trainer's batches; one-shot with ``data=``), ``l2`` otherwise. Raw Taylor scores kept
            far more of a trained model in ``benchmarks/criteria_sweep.py`` and after fine-tuning
            (see the README).
        target: ``"ratio"`` — ``amount`` is the fraction of channels removed (Torch-Pruning's
            ``pruning_ratio``); ``"macs"`` / ``"params"`` — ``amount`` is the fraction of the dense
            model's MACs / parameters to keep (reached within ``tolerance``).
        amount: see ``target``; strictly between 0 and 1.
        allocation: ``"global"`` ranks channels of all layers together (layers end up with different
            widths); ``"local"`` removes the same fraction from every layer.
        round_to: keep channel counts a multiple of this (hardware-friendly widths); 1 disables.
        min_channels: never keep fewer channels than this in any layer.
        max_layer_ratio: never remove more than this fraction of any single layer.
        skip: layers left untouched: ``model.<i>`` indices (ints) or module-name prefixes.
        imgsz: image size at which MACs are counted and the graph is traced.
        tolerance: allowed relative error on a ``macs``/``params`` target (0.03 = ±3 %).
        taylor_batches: batches of real data the ``taylor`` criteria accumulate gradients over.
        seed: seed for the ``random`` criterion and any sampling.

    Progressive pruning during training (the callbacks; ignored by one-shot ``prune_``):

        schedule: ``agp`` (cubic, Zhu & Gupta), ``linear`` or ``oneshot`` (see ``yoloprune.schedule``).
        steps: number of pruning steps, spread evenly from the start of ``start_epoch`` to the start
            of ``end_epoch`` (a step can fall mid-epoch: 3 steps over epochs 0-1 run at 0, 0.5, 1).
            The final width of every layer is planned at the first step; each step moves every layer
            ``schedule(k / steps)`` of the way there.
        start_epoch / end_epoch: first and last pruning epoch (0-based); -1 = automatic (30 % and
            60 % of the run), leaving the rest as the fine-tune stage.
        sparsity: regularisation before the last step: ``bn`` (L1 on BatchNorm scales, network
            slimming) or ``group`` (group lasso on filters), applied as a proximal step.
        sparsity_weight: its strength (lambda).
        distill: during the fine-tune stage, learn from a frozen copy of the dense model:
            ``logit`` (class scores and box distributions), ``feature`` (spatial attention of the
            neck features, width-independent), ``both``.
        distill_weight: weight of the distillation term added to the Ultralytics loss.
        rewarm_epochs: after each prune step the learning rate ramps linearly from 0 back to the
            schedule's value over this many epochs (fresh optimizer moments otherwise take full-size
            steps on the just-pruned weights); 0 disables.
        finetune_lr: the learning rate of the fine-tune stage after the last step: ``restart`` (default)
            squeezes the run's whole schedule (lr0 down to lr0 * lrf) into the remaining epochs, as a
            separate prune-then-fine-tune run would (learning-rate rewinding, Renda et al. 2020);
            ``continue`` keeps the run's schedule where it is (its decayed tail).
    """

    criterion: str = "auto"
    target: str = "macs"
    amount: float = 0.5
    allocation: str = "global"
    round_to: int = 8
    min_channels: int = 8
    max_layer_ratio: float = 0.9
    skip: tuple = field(default_factory=tuple)
    imgsz: int = 640
    tolerance: float = 0.03
    taylor_batches: int = 4
    seed: int = 0
    schedule: str = "agp"
    steps: int = 4
    start_epoch: int = -1
    end_epoch: int = -1
    sparsity: str = "none"
    sparsity_weight: float = 1e-4
    distill: str = "none"
    distill_weight: float = 1.0
    rewarm_epochs: float = 0.5
    finetune_lr: str = "restart"

    def __post_init__(self):
        self.validate()

    def validate(self) -> PruneConfig:
        """Raise :class:`ConfigError` naming the fix for the first invalid option; return self."""
        from .importance import CRITERIA  # noqa: PLC0415 (registry imports torch-pruning lazily)

        for f in fields(self):  # types first, so messages below can compare numbers safely
            value = getattr(self, f.name)
            expected = {"int": int, "float": (int, float), "str": str, "tuple": (tuple, list)}[str(f.type)]
            if isinstance(value, bool) or not isinstance(value, expected):
                raise ConfigError(f"{f.name}={value!r} must be of type {f.type}")
        self.skip = tuple(self.skip)
        self.amount = float(self.amount)
        if self.criterion != "auto" and self.criterion not in CRITERIA:
            raise ConfigError(f"unknown criterion {self.criterion!r}: use auto or one of {', '.join(CRITERIA)}")
        if self.target not in TARGETS:
            raise ConfigError(f"unknown target {self.target!r}: use one of {', '.join(TARGETS)}")
        if not 0.0 < self.amount < 1.0:
            raise ConfigError(f"amount={self.amount} must be strictly between 0 and 1 (e.g. amount=0.5)")
        from .schedule import SCHEDULES  # noqa: PLC0415

        for name, allowed in (("allocation", ALLOCATIONS), ("schedule", tuple(SCHEDULES)), ("sparsity", SPARSITY),
                              ("distill", DISTILL), ("finetune_lr", FINETUNE_LR)):
            if getattr(self, name) not in allowed:
                raise ConfigError(f"unknown {name} {getattr(self, name)!r}: use one of {', '.join(allowed)}")
        if -1 not in (self.start_epoch, self.end_epoch) and self.end_epoch < self.start_epoch:
            raise ConfigError(f"end_epoch={self.end_epoch} is before start_epoch={self.start_epoch}")
        checks = {
            "round_to": self.round_to >= 1,
            "min_channels": self.min_channels >= 1,
            "imgsz": self.imgsz >= 32 and self.imgsz % 32 == 0,
            "taylor_batches": self.taylor_batches >= 1,
            "max_layer_ratio": 0.0 < self.max_layer_ratio < 1.0,
            "tolerance": 0.0 < self.tolerance < 0.5,
            "steps": self.steps >= 1,
            "start_epoch": self.start_epoch >= -1,
            "end_epoch": self.end_epoch >= -1,
            "sparsity_weight": self.sparsity_weight >= 0,
            "distill_weight": self.distill_weight >= 0,
            "rewarm_epochs": self.rewarm_epochs >= 0,
        }
        hints = {
            "round_to": ">= 1",
            "min_channels": ">= 1",
            "imgsz": "a multiple of 32, >= 32",
            "taylor_batches": ">= 1",
            "max_layer_ratio": "strictly between 0 and 1",
            "tolerance": "between 0 and 0.5",
            "steps": ">= 1",
            "start_epoch": ">= 0 (or -1 for automatic)",
            "end_epoch": ">= 0 (or -1 for automatic)",
            "sparsity_weight": ">= 0",
            "distill_weight": ">= 0",
            "rewarm_epochs": ">= 0 (0 disables)",
        }
        for name, ok in checks.items():
            if not ok:
                raise ConfigError(f"{name}={getattr(self, name)} is invalid: must be {hints[name]}")
        for item in self.skip:
            if isinstance(item, bool) or not isinstance(item, (int, str)):
                raise ConfigError(f"skip entries must be layer indices or module names, got {item!r}")
        return self

    def resolved(self, has_data: bool) -> PruneConfig:
        """This config with ``criterion="auto"`` made concrete: ``taylor_raw`` given real batches, else ``l2``."""
        if self.criterion != "auto":
            return self
        return replace(self, criterion="taylor_raw" if has_data else "l2")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["skip"] = list(self.skip)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> PruneConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError(f"unknown PruneConfig option(s) {unknown}: valid options are {sorted(known)}")
        return cls(**d)
