"""Measure a model's latency table on this machine (``yolo-prune profile``), and measure variants end to end.

For every prunable group, the model is pruned to a grid of widths (``fractions`` of the group's dense
width, rounded to multiples of 8) with every other group dense, exported to ONNX with Ultralytics'
exporter and timed with the format's own runtime (OpenVINO with the precision hint, ONNX Runtime) —
the group's variants and the dense model interleaved, medians of ``runs`` rounds. One group (the
widest) is also timed at every multiple of 8 near its dense width: the staircase ``round_to=auto``
reads. Then ``validate`` random variants are measured against the table's prediction (mean absolute
percentage error). INT8 (OpenVINO): every variant is quantised by Ultralytics' own NNCF export, as deployed,
calibrated on a handful of the dataset's validation images (``data=``): where NNCF puts its quantisers
depends on the graph, not on the calibration ranges, so the timing is the deployed model's. Tables are cached by key under ``$YOLOPRUNE_HOME/latency``: profiling the same
model, runtime, precision, image size and thread count again is instant.
"""

from __future__ import annotations

import copy
import math
import random
from dataclasses import replace
from functools import cached_property, partial
import tempfile
from pathlib import Path

import numpy as np
from ultralytics import YOLO
from ultralytics.utils import LOGGER, TQDM

from .. import offline
from ..core.latency import LatencyTable, TableKey, calibrate, choose_model, fingerprint
from ..core.prune import GroupLayout, group_layout, pruned_to
from ..data.loaders import load_dataset
from ..data.registry import resolve_dataset
from ..errors import ConfigError
from ..integrations.ultralytics.model_io import load_model, save_pruned
from ..io import write_json_atomic
from ..logs import third_party_logs_to
from ..reporting.plots import plot_latency_table
from .timing import machine_info
from ..export.formats import FORMATS, QUANTIZE, ExportFormat, hardware as hardware_entry, parse_formats
from .timing import interleaved_medians

GRID = (0.75, 0.5, 0.25)  # fractions of each group's dense width


TIMED_MS = 300  # each median of a profile rests on at least this much timing of one model
CALIBRATION_IMAGES = 8  # per int8 variant: its quantiser placement, hence its latency, does not depend on them


def _round8(width: float, dense: int) -> int:
    return int(min(dense, max(8, 8 * round(width / 8))))


def calibration_args(fmt: ExportFormat, precision: str, data, images: int = CALIBRATION_IMAGES) -> dict:
    """Ultralytics export arguments calibrating an int8 variant on ``images`` validation images ({} otherwise)."""
    if precision != "int8" or not fmt.int8_calibrates:
        return {}
    if data is None:
        raise ConfigError(f"timing {fmt.name}:int8 quantises every variant with calibration images: add "
                          "data=<dataset name or YAML> (a few validation images are used)")
    load_dataset(data)  # a missing or broken dataset is one clear error here, not inside every export
    return {"data": str(resolve_dataset(data)), "fraction": images}  # an int: Ultralytics reads an image count


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
            widths = self.with_group(g, _round8(rng.uniform(low, 1.0) * self.dense[g], self.dense[g]), widths)
        return widths


IPHONE_CSV = "iphone_timings.csv"  # the profile kit's file the iPhone's timings (from Xcode) are typed into


def profile(model, hardware: str = "intel-cpu", format: str = "openvino:fp32", imgsz: int = 640, threads: int = 2,
            fractions=None, runs: int = 15, warmup: int = 3, validate: int = 10, seed: int = 0, out_dir=None,
            cache_dir=None, log_file="auto", groups: int | None = None, data=None, fit: int | None = None,
            compute_units: str | None = None) -> LatencyTable:
    """The latency table of ``model`` (a ``.pt`` or ``.yaml``) on this machine for ``format`` (one precision).

    ``data`` (a dataset name or YAML) calibrates int8 variants; other precisions need none. ``fit`` random
    variants (default: twice the free groups) fit the joint latency model, judged with the isolated one on
    ``validate`` other random variants; the better predictor is the table's model (``table.model``).

    ``fractions``: the widths each group is measured at (fractions of its dense width; default 0.75, 0.5, 0.25).
    Given explicitly, a cached table measured shallower than they reach is measured again (``target=latency``
    never prunes a group below its narrowest measured width); left out, any cached table serves.

    ``groups`` profiles only the first N groups (tests; the rest are predicted as free to prune, so a
    partial table is for checking the machinery, not for pruning). Writes ``latency_table.json`` and
    ``latency_groups.png`` into ``out_dir`` when given.
    """
    offline.configure_if_requested()
    device = hardware_entry(hardware)
    items = parse_formats(format)
    if len(items) != 1:
        raise ConfigError(f"format={format!r}: profile one format and precision, e.g. format=openvino:fp32")
    (fmt, precision), = items
    units = fmt.units(compute_units)
    if not device.measured_here:  # only a table measured there and merged (a profile kit's) can answer
        key = TableKey(hardware, fmt.name, precision, imgsz, 1, 0, fingerprint(group_layout(load_model(model)[0]).widths),
                       units)
        tables = merged_tables(key, cache_dir)
        if units in tables:
            return _written(tables[units], out_dir)
        if tables:
            raise ConfigError(f"hardware={hardware}: the merged tables of this model were timed with compute units "
                              f"{', '.join(sorted(tables))}, not {units}: give compute_units={min(tables)}, or time the "
                              f"kit with {units} (a Mac: run_benchmark.py --profile --compute-units {units}; the iPhone: "
                              f"Xcode's report and a line '# compute units: {units}' in {IPHONE_CSV}) and merge it")
        raise ConfigError(f"hardware={hardware} is not this machine and no table of it is merged for this model at "
                          f"imgsz={imgsz}: write a profile kit ('yolo-prune profile model=... hardware={hardware} "
                          f"format={format}'), time it on the device and 'yolo-prune profile merge=<kit>/timings.json'")
    if fmt.runner is None:
        raise ConfigError(f"format {fmt.name} cannot be timed on this machine: profile openvino or onnx here")
    why = fmt.precision_unavailable(precision)
    if why:
        raise ConfigError(why)
    if imgsz % 32:
        raise ConfigError(f"imgsz={imgsz} must be a multiple of 32")
    calibration = calibration_args(fmt, precision, data)
    net, _ = load_model(model)
    out = Path(out_dir) if out_dir else None
    if log_file == "auto":
        log_file = out / "profile.log" if out else None
    with tempfile.TemporaryDirectory() as tmp:
        timer = VariantTimer(net, fmt, precision, imgsz, threads, Path(tmp), calibration=calibration)
        key = TableKey(hardware, fmt.name, precision, imgsz, 1, threads, fingerprint(timer.dense))
        cached = cached_path(key, cache_dir)
        table = LatencyTable.load(cached) if cached.exists() and groups is None else None
        if table is not None and table.model is None:  # written before the joint model existed: measure again
            LOGGER.info(f"yoloprune: re-profiling {cached.name}: it predates the joint latency model")
            table = None
        if table is not None and fractions and not reaches(table, fractions):  # asked to go deeper than cached
            LOGGER.info(f"yoloprune: re-profiling {cached.name}: its narrowest measured widths are {table.depth():.0%} "
                        f"of their groups', fractions={','.join(map(str, fractions))} asks for {min(fractions):.0%}")
            table = None
        if table is None:
            with third_party_logs_to(log_file) as console:
                table = _measure(timer, key, tuple(fractions or GRID), runs, warmup, validate, fit, seed, groups, console)
            if groups is None:
                write_json_atomic(table.to_dict(), cached)
    return _written(table, out)


def _written(table: LatencyTable, out_dir) -> LatencyTable:
    """``table``, written with its plot into ``out_dir`` when given."""
    if out_dir:
        write_json_atomic(table.to_dict(), Path(out_dir) / "latency_table.json")
        plot_latency_table(table, Path(out_dir) / "latency_groups.png")
    return table


def _measure(timer: VariantTimer, key: TableKey, fractions, runs, warmup, validate, fit, seed, limit,
             console) -> LatencyTable:
    names = list(timer.dense)[:limit] if limit else list(timer.dense)
    dense_fn = timer.runner()
    # enough rounds that each median rests on ~TIMED_MS of runs: a small model's savings are fractions of a ms
    runs = max(runs, math.ceil(TIMED_MS / interleaved_medians([dense_fn], 5, warmup)[0]))
    table = LatencyTable(key=key, dense_ms=0.0, measured_on={**machine_info(), "runs": runs})
    dense_samples = []
    for name in TQDM(names, desc="profiling groups", file=console):
        d = timer.dense[name]
        widths = grid_widths(d, fractions)
        if name in timer.partner and timer.partner[name] in table.groups:
            table.groups[name] = twin_entry(table, timer.partner[name], d, widths)
            continue
        fns = [timer.runner(timer.with_group(name, w)) for w in widths]
        ms = interleaved_medians([dense_fn, *fns], runs, warmup, seed)
        dense_samples.append(ms[0])
        table.groups[name] = {"dense": d, "widths": [*widths, d], "ms": [*ms[1:], ms[0]]}
    table.dense_ms = float(np.median(dense_samples))
    # the staircase is read where latency moves most: the group whose smallest width saved the most
    widest = max((n for n in names if "paired_with" not in table.groups[n]),
                 key=lambda n: table.groups[n]["ms"][-1] - table.groups[n]["ms"][0])
    fine = staircase_widths(timer.dense[widest])
    fns = [timer.runner(timer.with_group(widest, w)) for w in fine]
    table.staircase = {"group": widest, "widths": fine,
                       "ms": interleaved_medians(fns, runs, warmup, seed)}
    if fit is None:
        fit = max(20, 2 * sum("paired_with" not in g for g in table.groups.values()))
    if validate:
        timed = partial(random_rows, table, timer, dense_fn, runs=runs, warmup=warmup, low=min(fractions),
                        names=names, console=console)
        fit_rows = timed(fit, seed + 2, "timing random variants for the joint model") if fit else []
        val_rows = timed(validate, seed + 1, "validating the latency model")
        table.validation = choose_model(table, fit_rows, val_rows) if fit_rows else validation_summary(table, val_rows)
        table.validation["variants"] = val_rows
    return table


def reaches(table: LatencyTable, fractions) -> bool:
    """Whether ``table`` was measured at least as narrow as ``fractions`` would measure every group: the knapsack
    predicts no saving below a group's lowest measured width, so a shallower table caps how far it prunes.
    (Depth only: a table measured at 0.25 alone serves an ask for 0.75, 0.5, 0.25.)"""
    return all(g["widths"][0] <= min(grid_widths(g["dense"], fractions), default=g["dense"])
               for g in table.groups.values() if "paired_with" not in g)


def twin_entry(table: LatencyTable, twin: str, dense: int, widths: list[int]) -> dict:
    """The second half of a split block: it moves with its ``twin`` (measured first, which holds the pair's
    saving), so it saves nothing of its own (the latency model is additive)."""
    return {"dense": dense, "widths": [*widths, dense], "ms": [table.groups[twin]["ms"][-1]] * (len(widths) + 1),
            "paired_with": twin}


def staircase_widths(dense: int) -> list[int]:
    """The fine grid ``round_to=auto`` reads: every multiple of 8 from half the dense width up to it."""
    return [w for w in range(8, dense + 1, 8) if w >= dense // 2]


def grid_widths(dense: int, fractions) -> list[int]:
    """The widths a group is measured at, below its dense width, ascending."""
    return sorted({_round8(f * dense, dense) for f in fractions} - {dense})


def random_rows(table: LatencyTable, timer: VariantTimer, dense_fn, n: int, seed: int, desc: str, runs: int,
                warmup: int, low: float, names=None, console=None) -> list[dict]:
    """``n`` random variants (every group at a uniform fraction in [low, 1]), each timed interleaved with dense."""
    rng = random.Random(seed)
    rows = []
    for _ in TQDM(range(n), desc=desc, file=console):
        widths = timer.random_widths(rng, low, names)
        dense_ms, variant_ms = interleaved_medians([dense_fn, timer.runner(widths)], runs, warmup, seed)
        rows.append(validation_row(table, widths, variant_ms, dense_ms))
    return rows


def validation_row(table: LatencyTable, widths: dict[str, int], variant_ms: float, dense_ms: float) -> dict:
    """One random variant: the table's (uncalibrated) prediction vs its measurement, drift since the table removed
    (``dense_ms`` is the dense model timed beside the variant)."""
    return {"predicted": table.predict(widths, calibrated=False), "measured": variant_ms * table.dense_ms / dense_ms,
            "raw_ms": variant_ms, "dense_ms": dense_ms,
            "widths": {g: w for g, w in widths.items() if w != table.groups.get(g, {}).get("dense", w)}}


def validation_summary(table: LatencyTable, rows: list[dict]) -> dict:
    """MAPE of the additive model and of the calibrated one (fitted on one half, judged on the other); sets the
    table's calibration (fitted on all rows)."""

    def mape(rs, scale):
        return float(np.mean([abs(table.dense_ms - scale * (table.dense_ms - r["predicted"]) - r["measured"])
                              / r["measured"] for r in rs]))

    def fit(rs):
        return calibrate(table.dense_ms, [table.dense_ms - r["predicted"] for r in rs],
                         [table.dense_ms - r["measured"] for r in rs])

    half = len(rows) // 2
    held_out = mape(rows[half:], fit(rows[:half])) if half else None  # fitted on one half, judged on the other
    table.calibration = fit(rows)
    return {"variants": rows, "mape_additive": mape(rows, 1.0), "calibration": table.calibration,
            "mape": held_out if held_out is not None else mape(rows, table.calibration),
            "mape_note": "calibrated model, fitted on the first half of the variants, measured on the second"}


class LatencyMeter:
    """Times models against one dense model as deployed (the format's own export), interleaved; the dense
    model is exported and compiled once, however many candidates are compared with it."""

    def __init__(self, dense_model, format: str, imgsz: int, threads: int = 2, runs: int = 30, warmup: int = 5,
                 seed: int = 0, data=None):
        (self.fmt, self.precision), = parse_formats(format)
        if self.fmt.runner is None:
            raise ConfigError(f"{format}: the closed loop measures openvino or onnx on this machine")
        self.calibration = calibration_args(self.fmt, self.precision, data)
        self.imgsz, self.threads, self.runs, self.warmup, self.seed = imgsz, threads, runs, warmup, seed
        self._tmp = tempfile.TemporaryDirectory()
        self._count = 0
        self._dense = self._runner(dense_model)

    def _runner(self, model):
        self._count += 1
        folder = Path(self._tmp.name) / str(self._count)
        folder.mkdir()
        net = load_model(model)[0] if isinstance(model, (str, Path)) else model
        with third_party_logs_to(folder / "export.log"):
            return VariantTimer(net, self.fmt, self.precision, self.imgsz, self.threads, folder, deployed=True,
                                calibration=self.calibration).runner()

    def compare(self, model) -> dict:
        """``{"dense_ms", "pruned_ms", "ratio"}`` (ratio = model / dense), from one interleaved run."""
        dense_ms, pruned_ms = interleaved_medians([self._dense, self._runner(model)], self.runs, self.warmup, self.seed)
        return {"dense_ms": dense_ms, "pruned_ms": pruned_ms, "ratio": pruned_ms / dense_ms}


def measure_speedup(dense_model, pruned_model, format: str, imgsz: int, threads: int = 2, runs: int = 30,
                    warmup: int = 5, seed: int = 0, data=None) -> dict:
    """Dense vs pruned end to end as deployed, interleaved: ``{"dense_ms", "pruned_ms", "ratio"}``."""
    return LatencyMeter(dense_model, format, imgsz, threads, runs, warmup, seed, data).compare(pruned_model)


def cached_path(key: TableKey, cache_dir=None) -> Path:
    """Where the table with ``key`` lives in the cache (``$YOLOPRUNE_HOME/latency``)."""
    return (Path(cache_dir) if cache_dir else offline.yoloprune_home() / "latency") / f"{key.slug()}.json"


def merged_tables(key: TableKey, cache_dir=None) -> dict[str, LatencyTable]:
    """The cached tables of ``key`` with each compute units of its runtime, by units. A table merged before units
    were keyed (cached under the name without them) counts as the units it recorded, else the runtime's default;
    a keyed table wins over it."""
    fmt, found = FORMATS[key.runtime], {}
    legacy = cached_path(replace(key, units=""), cache_dir)
    if legacy.exists():
        table = LatencyTable.load(legacy)
        found[table.measured_on.get("compute_units", fmt.units())] = table
    for units in fmt.compute_units:
        path = cached_path(replace(key, units=units), cache_dir)
        if path.exists():
            found[units] = LatencyTable.load(path)
    return found
