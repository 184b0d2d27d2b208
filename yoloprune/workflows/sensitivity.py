"""Sensitivity analysis: each prunable group pruned alone at several ratios, mAP50-95 measured on a
validation subset; the result is a table the allocator can use as per-group limits (``allocation=sensitivity``).

Cached by the checkpoint's checksum, the dataset, the subset, the image size and the ratios
(``$YOLOPRUNE_HOME/sensitivity``): analysing the same model again is instant.
"""

from __future__ import annotations

import copy
import hashlib
import json
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ultralytics.models.yolo.detect import DetectionValidator
from ultralytics.utils import TQDM

from .. import offline
from ..core.config import from_options
from ..core.prune import group_layout, pruned_to
from ..data.loaders import load_dataset
from ..data.registry import IMAGE_SUFFIXES, resolve_dataset
from ..errors import ConfigError
from ..integrations.ultralytics.model_io import load_model
from ..io import run_dir, write_json_atomic, write_text_atomic
from ..logs import third_party_logs_to
from ..reporting.plots import plot_sensitivity
from .legacy import config_and_data

@dataclass(frozen=True)
class SensitivityConfig:
    """``ratios``: fractions of a group's channels removed (each group alone, l2 order); ``images``: how many
    validation images the mAP is measured on; ``imgsz``: validation size."""

    ratios: tuple = (0.25, 0.5, 0.75)
    images: int = 64
    imgsz: int = 320

    def __post_init__(self):
        object.__setattr__(self, "ratios", tuple(float(r) for r in self.ratios))
        if not self.ratios or any(not 0 < r < 1 for r in self.ratios):
            raise ConfigError(f"ratios={self.ratios}: fractions removed, each strictly between 0 and 1")
        if isinstance(self.images, bool) or not isinstance(self.images, int) or self.images < 1:
            raise ConfigError(f"images={self.images!r} must be an integer >= 1")
        if self.imgsz % 32:
            raise ConfigError(f"imgsz={self.imgsz} must be a multiple of 32")


@dataclass
class SensitivityTable:
    model: str  # checksum of the checkpoint
    data: str
    images: int
    imgsz: int
    ratios: list
    dense_map: float
    groups: dict = field(default_factory=dict)  # name -> {"dense", "map": [per ratio], "drop": [per ratio]}

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def load(cls, path) -> SensitivityTable:
        try:
            return cls(**json.loads(Path(path).read_text()))
        except (OSError, ValueError, TypeError) as e:
            raise ConfigError(f"sensitivity table {path} is not readable ({e}): write one with yolo-prune sensitivity")


@dataclass(frozen=True)
class SensitivityResult:
    run_dir: Path | None
    report: SensitivityTable
    cached: Path

    @property
    def table(self) -> SensitivityTable:
        """The :class:`SensitivityTable` (``report``: every verb's result names its record so)."""
        return self.report


def _checksum(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def _subset_yaml(data_yaml: Path, images: int, folder: Path) -> Path:
    """A data YAML whose val split is the first ``images`` validation images (sorted), for quick mAP."""
    info = load_dataset(data_yaml)
    val = info["val"] if isinstance(info["val"], (list, tuple)) else [info["val"]]
    files = sorted(p for v in val for p in Path(v).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)[:images]
    if not files:
        raise ConfigError(f"no validation images found for {data_yaml}")
    listing = write_text_atomic("\n".join(str(f) for f in files) + "\n", folder / "val_subset.txt")
    names = "".join(f"  {i}: {json.dumps(str(n))}\n" for i, n in info["names"].items())
    return write_text_atomic(f"train: {listing}\nval: {listing}\nnames:\n{names}", folder / "subset.yaml")


def _val_map(model, data_yaml: Path, imgsz: int) -> float:
    validator = DetectionValidator(args={"data": str(data_yaml), "imgsz": imgsz, "batch": 16, "plots": False,
                                         "verbose": False, "workers": 0, "split": "val", "mode": "val"})
    return float(validator(model=copy.deepcopy(model))["metrics/mAP50-95(B)"])


def sensitivity(model: str | Path, config: SensitivityConfig | None = None, *legacy, data: str | Path | None = None,
                project=None, name: str = "exp", exist_ok: bool = False, cache_dir=None, log_file="auto",
                **options) -> SensitivityResult:
    """Prune each group alone at ``config.ratios``; mAP50-95 on the first ``config.images`` validation images of
    ``data``. The table is cached per checkpoint; ``project`` (with ``name``) also writes it there with a plot."""
    offline.configure_if_requested()
    config, data = config_and_data("sensitivity", config, legacy, data)
    config = from_options(SensitivityConfig, config, options)
    if data is None:
        raise ConfigError("sensitivity needs data=<dataset name or data YAML> to measure mAP on")
    model = Path(model)
    if model.suffix != ".pt":
        raise ConfigError("sensitivity needs a trained checkpoint (.pt): a YAML's random weights have no accuracy to lose")
    data_yaml = resolve_dataset(data)
    key = hashlib.sha256(json.dumps([_checksum(model), str(Path(data_yaml).resolve()), config.images, config.imgsz,
                                     config.ratios]).encode()).hexdigest()[:16]
    cached = (Path(cache_dir) if cache_dir else offline.yoloprune_home() / "sensitivity") / f"{key}.json"
    out = run_dir(project, name, exist_ok) if project is not None else None
    if cached.exists():
        table = SensitivityTable.load(cached)
    else:
        if log_file == "auto":
            log_file = out / "sensitivity.log" if out else None
        net, _ = load_model(model)
        layout = group_layout(copy.deepcopy(net))
        with tempfile.TemporaryDirectory() as tmp, third_party_logs_to(log_file) as console:
            subset = _subset_yaml(Path(data_yaml), config.images, Path(tmp))
            table = SensitivityTable(_checksum(model), str(data_yaml), config.images, config.imgsz,
                                     list(config.ratios), _val_map(net, subset, config.imgsz))
            for group, dense in TQDM(list(layout.widths.items()), desc="sensitivity", file=console):
                maps = []
                for ratio in config.ratios:
                    variant = layout.with_width(group, max(8, int(round(dense * (1 - ratio)))))
                    maps.append(_val_map(pruned_to(net, variant, config.imgsz), subset, config.imgsz))
                table.groups[group] = {"dense": dense, "map": maps,
                                       "drop": [table.dense_map - m for m in maps]}
        write_json_atomic(table.to_dict(), cached)
    if out is not None:
        write_json_atomic(table.to_dict(), out / "sensitivity.json")
        plot_sensitivity(table, out / "sensitivity.png")
    return SensitivityResult(out, table, cached)
