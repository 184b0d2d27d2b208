"""The typed, frozen configs of the pruning core: what to prune (:class:`PruneConfig`) and, for pruning
during training, when and how (:class:`ProgressiveConfig`). Each validates once, when it is made."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, is_dataclass, replace

from ..errors import ConfigError
from .criteria import CRITERIA
from .schedule import SCHEDULES

TARGETS = ("ratio", "macs", "params", "latency")  # what ``amount`` measures
ALLOCATIONS = ("global", "local", "sensitivity", "knapsack")
SPARSITY = ("none", "bn", "group")
DISTILL = ("none", "logit", "feature", "both", "native")  # native: Ultralytics' own (its distill_model= and dis=)
OWN_DISTILL = ("logit", "feature", "both")  # yoloprune's: a frozen teacher in the callbacks
FINETUNE_LR = ("restart", "continue")
_TYPES = {"int": int, "float": (int, float), "str": str, "tuple": (tuple, list)}


def _check_types(cfg) -> None:
    """Every field of the declared type (bools are not numbers), before any range check compares them."""
    for f in fields(cfg):
        value, expected = getattr(cfg, f.name), _TYPES.get(str(f.type))
        if expected is not None and (isinstance(value, bool) or not isinstance(value, expected)):
            raise ConfigError(f"{f.name}={value!r} must be of type {f.type}")


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(message)


def needs_latency_table(config: PruneConfig, where: str) -> None:
    """``target=latency`` / ``round_to=auto`` on a model in hand (``prune_``, the callbacks) read a table that
    must be given: only the workflows profile one."""
    if (config.target == "latency" or config.round_to == "auto") and not config.latency_table:
        what = "target=latency" if config.target == "latency" else "round_to=auto"
        raise ConfigError(f"{where} with {what} needs the target's latency table: latency_table=<json from "
                          "'yolo-prune profile'> (yoloprune.prune / yolo-prune prune profile one themselves from "
                          "hardware= and format=)")


def _one_of(name: str, value, allowed) -> None:
    _check(value in allowed, f"unknown {name} {value!r}: use one of {', '.join(allowed)}")


def from_options(cls, config=None, options: dict | None = None):
    """The one way a verb gets its config: ``config`` (a ``cls``) or ``cls`` built from flat ``options``, never
    both (the options would be silently dropped). A config nested in ``cls`` (``ProgressiveConfig.prune``) takes
    its own fields flat among the options, and may stand in for the whole (a ``PruneConfig`` where a
    ``ProgressiveConfig`` is asked for: that prune with the default schedule)."""
    options = dict(options or {})
    if config is not None and options:
        raise ConfigError(f"give either a {cls.__name__} or its options ({', '.join(sorted(options))}), not both: "
                          f"use dataclasses.replace(config, ...) to change a config")
    nested = _nested(cls)
    if config is not None:
        if isinstance(config, cls):
            return config
        for name, sub in nested.items():
            if isinstance(config, sub):
                return cls(**{name: config})
        allowed = " or ".join([cls.__name__, *(sub.__name__ for sub in nested.values())])
        raise ConfigError(f"config must be a {allowed}, got {type(config).__name__}")
    own = {f.name for f in fields(cls)} - set(nested)
    theirs = {name: {f.name for f in fields(sub)} for name, sub in nested.items()}
    known = own.union(*theirs.values())
    for key in sorted(set(options) - known):
        if cls is PruneConfig and key in _SCHEDULE_KEYS:
            raise ConfigError(f"{key}= is an option of pruning while training (ProgressiveConfig), not of a one-shot "
                              "prune: prune while training (yoloprune.prune_progressive(..., epochs=N); on the command "
                              "line add epochs=N), or leave it out")
        raise ConfigError(f"unknown {cls.__name__} option {key!r}: valid options are {', '.join(sorted(known))}")
    subs = {name: nested[name](**{k: v for k, v in options.items() if k in keys}) for name, keys in theirs.items()}
    return cls(**{k: v for k, v in options.items() if k in own}, **subs)


def _nested(cls) -> dict:
    """``{field name: config class}`` of the configs nested in ``cls`` (fields whose default is one)."""
    return {f.name: f.default_factory for f in fields(cls)
            if isinstance(f.default_factory, type) and is_dataclass(f.default_factory)}


@dataclass(frozen=True)
class PruneConfig:
    """What to prune and how far.

    Attributes:
        criterion: importance criterion, a name from ``yoloprune.core.criteria.CRITERIA``, or ``auto``
            (default): ``taylor_raw`` where real data is at hand (always in the callbacks, which use
            the trainer's batches; one-shot with ``data=``), ``l2`` otherwise. Raw Taylor scores kept
            far more of a trained model in ``benchmarks/criteria_sweep.py`` and after fine-tuning
            (see the documentation's guide to choosing settings).
        target: ``"ratio"`` — ``amount`` is the fraction of channels removed (Torch-Pruning's
            ``pruning_ratio``); ``"macs"`` / ``"params"`` — ``amount`` is the fraction of the dense
            model's MACs / parameters to keep (reached within ``tolerance``); ``"latency"`` — the
            fraction of the dense model's latency measured on the target hardware (``latency_table``).
        amount: see ``target``; strictly between 0 and 1.
        allocation: ``"global"`` ranks channels of all layers together (layers end up with different
            widths); ``"local"`` removes the same fraction from every layer; ``"sensitivity"`` is global
            within per-group limits read from ``sensitivity_table`` (``yolo-prune sensitivity``): no group
            loses more than the largest fraction whose mAP drop stayed within ``sensitivity_drop``. With
            ``target=latency`` each of them is cut where the latency table predicts ``amount``;
            ``"knapsack"`` (``target=latency`` only) instead spends the latency budget where importance
            lost per millisecond saved is lowest (HALP): faster per point of importance, but it can strip
            the high-resolution layers (stem, P3 head) a detector needs (``benchmarks/README.md`` has the measurements).
        round_to: keep channel counts a multiple of this (hardware-friendly widths); 1 disables; ``auto``
            (with a latency table): the step at which the measured latency climbs its staircase.
        min_channels: never keep fewer channels than this in any layer.
        max_layer_ratio: never remove more than this fraction of any single layer. The default 0.75 keeps
            the deep layers of a pretrained detector wide enough: on real photos at 2x it ended 1.5 points of
            mAP50-95 above 0.9 one-shot and 5.8 while training (0.9 thins them to 32-64 channels). Cuts
            past about 2.5x may need it raised (an unreachable budget says so).
        skip: layers left untouched: ``model.<i>`` indices (ints) or module-name prefixes.
        imgsz: image size at which MACs are counted and the graph is traced.
        tolerance: allowed relative error on a ``macs``/``params`` target (0.03 = ±3 %).
        taylor_batches: batches of real data the ``taylor`` criteria accumulate gradients over.
        seed: seed for the ``random`` criterion and any sampling.
        latency_table: path of the latency table (``yolo-prune profile``) that ``target=latency`` and
            ``round_to=auto`` read. Left empty with ``target=latency``, the workflows (``yoloprune.prune``,
            ``prune_progressive``, the CLI) profile one for their ``LatencyCheck``'s hardware and format;
            ``prune_`` and the callbacks, which work on a model in hand, need it given.
        sensitivity_table / sensitivity_drop: for ``allocation=sensitivity`` (mAP50-95 points, absolute).
    """

    criterion: str = "auto"
    target: str = "macs"
    amount: float = 0.5
    allocation: str = "global"
    round_to: int | str = 8
    min_channels: int = 8
    max_layer_ratio: float = 0.75
    skip: tuple = field(default_factory=tuple)
    imgsz: int = 640
    tolerance: float = 0.03
    taylor_batches: int = 4
    seed: int = 0
    latency_table: str = ""
    sensitivity_table: str = ""
    sensitivity_drop: float = 0.01

    def __post_init__(self):
        _check_types(self)
        _check(self.round_to == "auto" or (isinstance(self.round_to, int) and not isinstance(self.round_to, bool)),
               f"round_to={self.round_to!r} must be an integer or auto")
        object.__setattr__(self, "skip", tuple(self.skip))
        object.__setattr__(self, "amount", float(self.amount))
        _check(self.criterion == "auto" or self.criterion in CRITERIA,
               f"unknown criterion {self.criterion!r}: use auto or one of {', '.join(CRITERIA)}")
        _one_of("target", self.target, TARGETS)
        _check(0.0 < self.amount < 1.0, f"amount={self.amount} must be strictly between 0 and 1 (e.g. amount=0.5)")
        _one_of("allocation", self.allocation, ALLOCATIONS)
        _check(self.round_to == "auto" or self.round_to >= 1, f"round_to={self.round_to} is invalid: must be >= 1")
        _check(self.allocation != "knapsack" or self.target == "latency",
               f"allocation=knapsack spends a latency budget: use it with target=latency (got target={self.target})")
        _check(self.allocation != "sensitivity" or bool(self.sensitivity_table),
               "allocation=sensitivity needs sensitivity_table=<json from 'yolo-prune sensitivity'>")
        _check(self.sensitivity_drop >= 0, f"sensitivity_drop={self.sensitivity_drop} is invalid: must be >= 0")
        _check(self.round_to != "auto" or bool(self.latency_table) or self.target == "latency",
               "round_to=auto reads the latency staircase: give latency_table=<json> (or a number, e.g. round_to=8)")
        _check(self.min_channels >= 1, f"min_channels={self.min_channels} is invalid: must be >= 1")
        _check(0.0 < self.max_layer_ratio < 1.0,
               f"max_layer_ratio={self.max_layer_ratio} is invalid: must be strictly between 0 and 1")
        _check(self.imgsz >= 32 and self.imgsz % 32 == 0, f"imgsz={self.imgsz} is invalid: must be a multiple of 32, >= 32")
        _check(0.0 < self.tolerance < 0.5, f"tolerance={self.tolerance} is invalid: must be between 0 and 0.5")
        _check(self.taylor_batches >= 1, f"taylor_batches={self.taylor_batches} is invalid: must be >= 1")
        for item in self.skip:
            _check(not isinstance(item, bool) and isinstance(item, (int, str)),
                   f"skip entries must be layer indices or module names, got {item!r}")

    def resolved(self, has_data: bool) -> PruneConfig:
        """This config with ``criterion="auto"`` made concrete: ``taylor_raw`` given real batches, else ``l2``."""
        if self.criterion != "auto":
            return self
        return replace(self, criterion="taylor_raw" if has_data else "l2")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["skip"] = list(self.skip)
        return d


@dataclass(frozen=True)
class ProgressiveConfig:
    """Pruning during training (the callbacks): :class:`PruneConfig`'s target, reached in steps.

    Attributes:
        prune: what to prune and how far (``criterion="auto"`` is ``taylor_raw`` here: the trainer's
            own batches are always at hand).
        schedule: ``agp`` (cubic, Zhu & Gupta), ``linear`` or ``oneshot`` (see ``core.schedule``).
        steps: number of pruning steps, spread evenly from the start of ``start_epoch`` to the start
            of ``end_epoch`` (a step can fall mid-epoch: 3 steps over epochs 0-1 run at 0, 0.5, 1).
            The final width of every layer is planned at the first step; each step moves every layer
            ``schedule(k / steps)`` of the way there.
        start_epoch / end_epoch: first and last pruning epoch (0-based); -1 = automatic: from a
            trained checkpoint (``.pt``) the first epoch and 20 % of the run, from a YAML (training
            from scratch) 30 % and 60 %; the rest of the run is the fine-tune stage. On a pretrained
            YOLOv8s and real photos the early steps beat 30-60 % by 3.5 points of mAP50-95 at 2x.
        sparsity: regularisation before the last step: ``bn`` (L1 on BatchNorm scales, network
            slimming) or ``group`` (group lasso on filters), applied as a proximal step.
        sparsity_weight: its strength (lambda).
        distill: during the fine-tune stage, learn from a frozen copy of the dense model:
            ``logit`` (class scores and box distributions), ``feature`` (spatial attention of the
            neck features, width-independent), ``both``; or ``native``: Ultralytics' own distillation
            for the whole run, the dense checkpoint as teacher (its ``distill_model=`` train argument,
            which ``prune_progressive`` and ``yolo-prune prune`` set; its ``dis=`` weighs it).
        distill_weight: weight of yoloprune's distillation term added to the Ultralytics loss.
        rewarm_epochs: after each prune step the learning rate ramps linearly from 0 back to the
            schedule's value over this many epochs; 0 disables.
        finetune_lr: the learning rate of the fine-tune stage after the last step: ``restart`` (default)
            squeezes the run's whole schedule (lr0 down to lr0 * lrf) into the remaining epochs
            (learning-rate rewinding, Renda et al. 2020); ``continue`` keeps the run's decayed tail.
    """

    prune: PruneConfig = field(default_factory=PruneConfig)
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
        _check(isinstance(self.prune, PruneConfig), f"prune must be a PruneConfig, got {type(self.prune).__name__}")
        _check_types(self)
        object.__setattr__(self, "prune", self.prune.resolved(has_data=True))
        _one_of("schedule", self.schedule, tuple(SCHEDULES))
        _one_of("sparsity", self.sparsity, SPARSITY)
        _one_of("distill", self.distill, DISTILL)
        _one_of("finetune_lr", self.finetune_lr, FINETUNE_LR)
        _check(self.steps >= 1, f"steps={self.steps} is invalid: must be >= 1")
        _check(self.start_epoch >= -1, f"start_epoch={self.start_epoch} is invalid: must be >= 0 (or -1 for automatic)")
        _check(self.end_epoch >= -1, f"end_epoch={self.end_epoch} is invalid: must be >= 0 (or -1 for automatic)")
        _check(-1 in (self.start_epoch, self.end_epoch) or self.end_epoch >= self.start_epoch,
               f"end_epoch={self.end_epoch} is before start_epoch={self.start_epoch}")
        _check(self.sparsity_weight >= 0, f"sparsity_weight={self.sparsity_weight} is invalid: must be >= 0")
        _check(self.distill_weight >= 0, f"distill_weight={self.distill_weight} is invalid: must be >= 0")
        _check(self.distill != "native" or self.distill_weight == 1.0,
               f"distill_weight={self.distill_weight} weighs yoloprune's distillation; Ultralytics' own (distill=native)"
               " is weighed by its dis= train argument (e.g. dis=6)")
        _check(self.rewarm_epochs >= 0, f"rewarm_epochs={self.rewarm_epochs} is invalid: must be >= 0 (0 disables)")

    @classmethod
    def of(cls, **options) -> ProgressiveConfig:
        """From one flat set of options (PruneConfig's and this config's fields), as the CLI and checkpoints hold
        them (:func:`from_options`)."""
        return from_options(cls, None, options)

    def to_dict(self) -> dict:
        """Flat: PruneConfig's fields and this config's (the layout of ``prune.json`` and checkpoints)."""
        return {**self.prune.to_dict(), **{f.name: getattr(self, f.name) for f in fields(self) if f.name != "prune"}}


_SCHEDULE_KEYS = frozenset(f.name for f in fields(ProgressiveConfig)) - {"prune"}
