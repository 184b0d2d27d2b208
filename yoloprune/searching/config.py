"""The one typed, frozen config of a search (:class:`SearchConfig`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from ..core.config import ALLOCATIONS
from ..core.criteria import CRITERIA
from ..errors import ConfigError
from ..export.formats import hardware as hardware_entry, parse_formats

SCHEDULES = ("progressive", "oneshot")  # pruning while fine-tuning (the callbacks), or once and then fine-tuned
SEARCH_DISTILL = ("none", "native")  # Ultralytics' own distillation, the dense model as teacher
_TUPLES = ("amounts", "schedules", "criteria", "allocations", "distill")


@dataclass(frozen=True)
class SearchConfig:
    """What a search explores and what it may lose.

    Each trial prunes the model to a measured latency (``target=latency``, a fraction of the dense model's latency
    on ``hardware`` with ``format``) with one recipe and fine-tunes it ``epochs``; the search returns the fastest
    trial whose validation mAP50-95 is within ``max_drop`` points of the dense model's.

    Attributes:
        max_drop: mAP50-95 points (1.0 = one point: 0.45 -> 0.44) the recommended model may lose against the dense
            model as given, on the validation split.
        trials: how many trials (12 by default; each a prune and a fine-tune of at most ``epochs``).
        epochs: fine-tune epochs of one trial; the recommendation's command trains ``final_epochs``.
        amounts: the range of latency kept that trials draw from (0.5 = 2x faster).
        schedules / criteria / allocations / distill: the recipe settings tried (the first of each is the
            recipe the search starts from): ``progressive`` prunes while fine-tuning, ``oneshot`` prunes once
            then fine-tunes; criteria and allocations as in ``PruneConfig``; ``native`` distils the dense model
            into the trial with Ultralytics' own distillation.
        hardware / format: where latency is measured (``intel-cpu`` on this machine; ``jetson``/``iphone``/
            ``mac`` from their merged tables); one runtime and precision.
        imgsz: the image size trials prune, train and are timed at.
        latency_table: a table from ``yolo-prune profile`` (its device, runtime and size must be these); empty:
            profiled for ``hardware`` and ``format`` once, then cached.
        grace_epochs / eta: successive halving: the first epoch a trial can be stopped at and the factor between
            the epochs it is judged at (2, 6, 18, ... with 2 and 3); a trial stops when it is not in the best
            ``1/eta`` of the trials judged at that epoch by (measured latency, mAP50-95), or when it would need more
            than twice the largest recovery any finished trial made from that epoch on.
        final_epochs: epochs of the full fine-tune the recommendation's command runs.
        runs / threads: interleaved timing rounds and inference threads of every latency measurement.
        seed: of every trial's training.
        use_ray / ray_address / max_concurrent / gpus_per_trial: run the trials with Ray Tune (``pip install
            "yoloprune[search]"``), on a local instance (``ray_address`` empty) or a cluster; ``max_concurrent``
            trials at once (0: one per GPU of the cluster, one where it has none), each with ``gpus_per_trial``.
    """

    max_drop: float = 1.0
    trials: int = 12
    epochs: int = 5
    amounts: tuple = (0.3, 0.9)
    schedules: tuple = SCHEDULES
    criteria: tuple = ("taylor_raw", "l2")
    allocations: tuple = ("global", "local")
    distill: tuple = SEARCH_DISTILL
    hardware: str = "intel-cpu"
    format: str = "openvino:fp32"
    imgsz: int = 640
    latency_table: str = ""
    grace_epochs: int = 2
    eta: int = 3
    final_epochs: int = 30
    runs: int = 30
    threads: int = 2
    seed: int = 0
    use_ray: bool = False
    ray_address: str = ""
    max_concurrent: int = 0
    gpus_per_trial: float = 1.0

    def __post_init__(self):
        for name in _TUPLES:
            value = getattr(self, name)
            if isinstance(value, str):  # from the command line: amounts=0.3,0.9 schedules=progressive
                value = tuple(v.strip() for v in value.split(",") if v.strip())
            if not isinstance(value, (tuple, list)) or not value:
                raise ConfigError(f"{name}={value!r}: give one or more values, e.g. {name}={_example(name)}")
            object.__setattr__(self, name, tuple(value))
        for f in fields(self):
            value, kind = getattr(self, f.name), f.type
            if kind in ("int", "float", "bool", "str"):
                ok = {"int": lambda v: isinstance(v, int) and not isinstance(v, bool),
                      "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
                      "bool": lambda v: isinstance(v, bool), "str": lambda v: isinstance(v, str)}[kind](value)
                if not ok:
                    raise ConfigError(f"{f.name}={value!r} must be of type {kind}")
        if not 0 < self.max_drop <= 50:
            raise ConfigError(f"max_drop={self.max_drop}: give the mAP50-95 points the model may lose, above 0 "
                              "(e.g. max_drop=1.0 for one point)")
        if self.max_drop < 0.1:
            raise ConfigError(f"max_drop={self.max_drop} is {self.max_drop} of one mAP50-95 point; max_drop counts "
                              f"points (0.45 -> 0.44 is 1.0): e.g. max_drop={self.max_drop * 100:g}")
        try:
            amounts = tuple(float(a) for a in self.amounts)
        except (TypeError, ValueError):
            raise ConfigError(f"amounts={self.amounts!r}: two fractions of the dense latency, e.g. amounts=0.3,0.9") from None
        if len(amounts) != 2 or not 0 < amounts[0] < amounts[1] < 1:
            raise ConfigError(f"amounts={self.amounts!r}: the lowest and highest latency kept, 0 < low < high < 1, "
                              "e.g. amounts=0.3,0.9")
        object.__setattr__(self, "amounts", amounts)
        for name, allowed in (("schedules", SCHEDULES), ("criteria", tuple(CRITERIA)), ("allocations", ALLOCATIONS),
                              ("distill", SEARCH_DISTILL)):
            bad = [v for v in getattr(self, name) if v not in allowed]
            if bad:
                raise ConfigError(f"{name}: unknown {bad[0]!r}; use one or more of {', '.join(allowed)}")
        if any(a in ("sensitivity", "knapsack") for a in self.allocations):
            raise ConfigError("allocations: a search tries global and local (sensitivity needs its own table, "
                              "knapsack spends the budget differently): allocations=global,local")
        hardware_entry(self.hardware)
        if len(parse_formats(self.format)) != 1:
            raise ConfigError(f"format={self.format!r}: a search measures one runtime and precision, e.g. "
                              "format=openvino:fp32")
        for name, low in (("trials", 1), ("epochs", 1), ("grace_epochs", 1), ("eta", 2), ("final_epochs", 1),
                          ("runs", 3), ("threads", 1), ("max_concurrent", 0)):
            if getattr(self, name) < low:
                raise ConfigError(f"{name}={getattr(self, name)} must be >= {low}")
        if self.imgsz < 32 or self.imgsz % 32:
            raise ConfigError(f"imgsz={self.imgsz} must be a multiple of 32, >= 32")
        if self.gpus_per_trial < 0:
            raise ConfigError(f"gpus_per_trial={self.gpus_per_trial} must be >= 0")
        if self.ray_address and not self.use_ray:
            raise ConfigError(f"ray_address={self.ray_address} runs trials on a Ray cluster: add use_ray=True")

    @property
    def rungs(self) -> tuple:
        """The epochs at which running trials are judged (before their last)."""
        out, epoch = [], self.grace_epochs
        while epoch < self.epochs:
            out.append(epoch)
            epoch *= self.eta
        return tuple(out)

    @property
    def target_drop(self) -> float:
        """``max_drop`` as a fraction of mAP50-95 (how Ultralytics reports it)."""
        return self.max_drop / 100

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict) -> SearchConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items() if k in known})


def _example(name: str) -> str:
    return {"amounts": "0.3,0.9", "schedules": "progressive,oneshot", "criteria": "taylor_raw,l2",
            "allocations": "global,local", "distill": "none,native"}[name]
