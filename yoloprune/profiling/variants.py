"""Pruned variants of one dense model: built at given group widths, exported and run with a format's runtime
(:class:`VariantTimer`), and the random variants a profile times whole (:class:`RandomDraw`)."""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from ultralytics import YOLO

from ..core.prune import GroupLayout, group_layout, pruned_to
from ..data.loaders import load_dataset
from ..data.registry import resolve_dataset
from ..errors import ConfigError
from ..export.formats import QUANTIZE, ExportFormat
from ..integrations.ultralytics.model_io import save_pruned
from .config import ProfileConfig
from .tables import round8

CALIBRATION_IMAGES = 8  # per int8 variant: its quantiser placement, hence its latency, does not depend on them


def calibration_args(fmt: ExportFormat, precision: str, data, images: int = CALIBRATION_IMAGES) -> dict:
    """Ultralytics export arguments calibrating an int8 variant on ``images`` validation images ({} otherwise)."""
    if precision != "int8" or not fmt.int8_calibrates:
        return {}
    if data is None:
        raise ConfigError(f"timing {fmt.name}:int8 quantises every variant with calibration images: add "
                          "data=<dataset name or YAML> (a few validation images are used)")
    load_dataset(data)  # a missing or broken dataset is one clear error here, not inside every export
    return {"data": str(resolve_dataset(data)), "fraction": images}  # an int: Ultralytics reads an image count


@dataclass(frozen=True)
class RandomDraw:
    """``n`` random variants: every group (of those profiled) at a uniform fraction in [``low``, 1] of its dense
    width, drawn from ``random.Random(seed)``. ``role``: "fit" (the joint latency model is fitted on them) or
    "validate" (the latency model is judged on them)."""

    role: str
    n: int
    seed: int
    low: float


LAYER_FIT = 8  # whole variants a per-layer table is calibrated on by default


def random_draws(config: ProfileConfig, free_groups: int) -> tuple[RandomDraw, RandomDraw]:
    """The random variants a profile of ``config`` times whole, in the order timed: ``config.fit`` to fit the latency
    model (default: twice the ``free_groups``, at least 20, for a whole-variant table, none without validation;
    ``LAYER_FIT`` to calibrate a per-layer one, whose layer sum needs it even unvalidated), then ``config.validate``
    to judge it. A device kit draws the very variants a local profile with the same seed times."""
    layers = config.measured_by == "layers"
    fit = config.fit if config.fit is not None else LAYER_FIT if layers else max(20, 2 * free_groups)
    low = min(config.grid)
    return (RandomDraw("fit", fit if config.validate or layers else 0, config.seed + 2, low),
            RandomDraw("validate", config.validate, config.seed + 1, low))


class VariantTimer:
    """Builds pruned variants of one dense model and times them with a format's runner, interleaved.

    ``deployed=False`` (profiling many variants): a plain ONNX export that the format's runtime reads
    directly (OpenVINO compiles ONNX itself), fast. ``deployed=True`` (the closed loop, final checks) and
    int8 (quantised by the export): the format's own Ultralytics export (an OpenVINO IR, a simplified ONNX),
    as a user deploys it; ``calibration`` are its int8 arguments (:func:`calibration_args`).
    """

    def __init__(self, model, fmt: ExportFormat, precision: str, imgsz: int, threads: int, workdir: Path,
                 deployed: bool = False, calibration: dict | None = None):
        self.model, self.fmt, self.precision, self.imgsz, self.threads = model, fmt, precision, imgsz, threads
        self.workdir, self.deployed, self.calibration = workdir, deployed or bool(calibration), calibration or {}
        self._count = 0

    @cached_property
    def layout(self) -> GroupLayout:
        """Traced once, when a variant first needs it (timing the model as it is needs no trace)."""
        return group_layout(copy.deepcopy(self.model))

    @property
    def dense(self) -> dict[str, int]:
        return self.layout.widths

    @property
    def partner(self) -> dict[str, str]:
        return self.layout.partner

    def with_group(self, name: str, width: int, base: dict[str, int] | None = None) -> dict[str, int]:
        return self.layout.with_width(name, width, base)

    def export(self, widths: dict[str, int] | None = None) -> Path:
        """The variant with ``widths`` (None: the model as it is) exported; its file or folder."""
        net = self.model if widths is None or widths == self.dense else pruned_to(self.model, widths, self.imgsz)
        self._count += 1
        pt = save_pruned(net, self.workdir / f"v{self._count}.pt", source=f"variant-{self._count}", meta={})
        if self.deployed:
            exported = YOLO(str(pt)).export(format=self.fmt.name, imgsz=self.imgsz, quantize=QUANTIZE[self.precision],
                                            verbose=False, **self.calibration)
        else:
            exported = YOLO(str(pt)).export(format="onnx", imgsz=self.imgsz, simplify=False, verbose=False)
        return Path(exported)

    def runner(self, widths: dict[str, int] | None = None):
        """A zero-argument callable running one inference of the variant with ``widths`` (None: as it is)."""
        run, _ = self.fmt.runner(self.export(widths), self.precision, self.imgsz, self.threads)
        return run

    def random_widths(self, rng: random.Random, low: float, names=None) -> dict[str, int]:
        """A random variant: every group (of ``names``) at a uniform fraction in [low, 1] of its width."""
        widths = dict(self.dense)
        for g in names or self.dense:
            widths = self.with_group(g, round8(rng.uniform(low, 1.0) * self.dense[g], self.dense[g]), widths)
        return widths

    def drawn(self, draw: RandomDraw, names=None) -> list[dict[str, int]]:
        """The widths of ``draw``'s variants (of the groups ``names``; default all)."""
        rng = random.Random(draw.seed)
        return [self.random_widths(rng, draw.low, names) for _ in range(draw.n)]
