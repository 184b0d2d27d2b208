"""Measure a model's latency table on this machine (``yolo-prune profile``), and measure variants end to end.

For every prunable group, the model is pruned to a grid of widths (``fractions`` of the group's dense
width, rounded to multiples of 8) with every other group dense, exported to ONNX with Ultralytics'
exporter and timed with the format's own runtime (OpenVINO with the precision hint, ONNX Runtime) —
the group's variants and the dense model interleaved, medians of ``runs`` rounds. One group (the
widest) is also timed at every multiple of 8 near its dense width: the staircase ``round_to=auto``
reads. Then ``validate`` random variants are measured against the table's prediction (mean absolute
percentage error). Tables are cached by key under ``$YOLOPRUNE_HOME/latency``: profiling the same
model, runtime, precision, image size and thread count again is instant.
"""

from __future__ import annotations

import copy
import random
from functools import cached_property
import tempfile
import time
from pathlib import Path

import numpy as np
from ultralytics import YOLO
from ultralytics.utils import TQDM

from .. import offline
from ..core.latency import LatencyTable, TableKey, calibrate, fingerprint
from ..core.prune import GroupLayout, group_layout, pruned_to
from ..errors import ConfigError
from ..integrations.ultralytics.model_io import load_model, save_pruned
from ..io import write_json_atomic
from ..logs import third_party_logs_to
from ..reporting.plots import plot_latency_table
from .benchmark import machine_info
from .formats import QUANTIZE, ExportFormat, hardware as hardware_entry, parse_formats

GRID = (0.75, 0.5, 0.25)  # fractions of each group's dense width


def _round8(width: float, dense: int) -> int:
    return int(min(dense, max(8, 8 * round(width / 8))))


class VariantTimer:
    """Builds pruned variants of one dense model and times them with a format's runner, interleaved.

    ``deployed=False`` (profiling many variants): a plain ONNX export that the format's runtime reads
    directly (OpenVINO compiles ONNX itself), fast. ``deployed=True`` (the closed loop, final checks): the
    format's own Ultralytics export (an OpenVINO IR, a simplified ONNX), as a user deploys it.
    """

    def __init__(self, model, fmt: ExportFormat, precision: str, imgsz: int, threads: int, workdir: Path,
                 deployed: bool = False):
        self.model, self.fmt, self.precision, self.imgsz, self.threads = model, fmt, precision, imgsz, threads
        self.workdir, self.deployed = workdir, deployed
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

    def runner(self, widths: dict[str, int] | None = None):
        """A zero-argument callable running one inference of the variant with ``widths`` (None: as it is)."""
        net = self.model if widths is None or widths == self.dense else pruned_to(self.model, widths, self.imgsz)
        self._count += 1
        pt = save_pruned(net, self.workdir / f"v{self._count}.pt", source=f"variant-{self._count}", meta={})
        if self.deployed:
            exported = YOLO(str(pt)).export(format=self.fmt.name, imgsz=self.imgsz, quantize=QUANTIZE[self.precision],
                                            verbose=False)
        else:
            exported = YOLO(str(pt)).export(format="onnx", imgsz=self.imgsz, simplify=False, verbose=False)
        run, _ = self.fmt.runner(Path(exported), self.precision, self.imgsz, self.threads)
        return run


def interleaved_medians(fns: list, runs: int, warmup: int, seed: int = 0) -> list[float]:
    """Median ms of each callable, timed round-robin in a shuffled order each round (drift hits all alike)."""
    for fn in fns:
        for _ in range(warmup):
            fn()
    times = [[] for _ in fns]
    order, rng = list(range(len(fns))), random.Random(seed)
    for _ in range(runs):
        rng.shuffle(order)
        for i in order:
            t = time.perf_counter()
            fns[i]()
            times[i].append((time.perf_counter() - t) * 1000)
    return [float(np.median(t)) for t in times]


def profile(model, hardware: str = "intel-cpu", format: str = "openvino:fp32", imgsz: int = 640, threads: int = 2,
            fractions=GRID, runs: int = 15, warmup: int = 3, validate: int = 10, seed: int = 0, out_dir=None,
            cache_dir=None, log_file="auto", groups: int | None = None) -> LatencyTable:
    """The latency table of ``model`` (a ``.pt`` or ``.yaml``) on this machine for ``format`` (one precision).

    ``groups`` profiles only the first N groups (tests; the rest are predicted as free to prune, so a
    partial table is for checking the machinery, not for pruning). Writes ``latency_table.json`` and
    ``latency_groups.png`` into ``out_dir`` when given.
    """
    offline.configure_if_requested()
    device = hardware_entry(hardware)
    if not device.measured_here:
        raise ConfigError(f"hardware={hardware} is not this machine: run the profile inside its device bundle and "
                          "bring the table back with 'yolo-prune profile merge=<table.json>'")
    items = parse_formats(format)
    if len(items) != 1:
        raise ConfigError(f"format={format!r}: profile one format and precision, e.g. format=openvino:fp32")
    (fmt, precision), = items
    if fmt.runner is None:
        raise ConfigError(f"format {fmt.name} cannot be timed on this machine: profile openvino or onnx here")
    if precision == "int8":
        raise ConfigError("profiling int8 needs a calibrated export per variant, not supported yet: profile "
                          "openvino:fp32 (or :bf16) and prune to that table")
    why = fmt.precision_unavailable(precision)
    if why:
        raise ConfigError(why)
    if imgsz % 32:
        raise ConfigError(f"imgsz={imgsz} must be a multiple of 32")
    net, _ = load_model(model)
    out = Path(out_dir) if out_dir else None
    if log_file == "auto":
        log_file = out / "profile.log" if out else None
    with tempfile.TemporaryDirectory() as tmp:
        timer = VariantTimer(net, fmt, precision, imgsz, threads, Path(tmp))
        key = TableKey(hardware, fmt.name, precision, imgsz, 1, threads, fingerprint(timer.dense))
        cached = cached_path(key, cache_dir)
        if cached.exists() and groups is None:
            table = LatencyTable.load(cached)
        else:
            with third_party_logs_to(log_file) as console:
                table = _measure(timer, key, fractions, runs, warmup, validate, seed, groups, console)
            if groups is None:
                write_json_atomic(table.to_dict(), cached)
    if out:
        write_json_atomic(table.to_dict(), out / "latency_table.json")
        plot_latency_table(table, out / "latency_groups.png")
    return table


def _measure(timer: VariantTimer, key: TableKey, fractions, runs, warmup, validate, seed, limit, console) -> LatencyTable:
    names = list(timer.dense)[:limit] if limit else list(timer.dense)
    dense_fn = timer.runner()
    table = LatencyTable(key=key, dense_ms=0.0, measured_on=machine_info())
    dense_samples = []
    for name in TQDM(names, desc="profiling groups", file=console):
        d = timer.dense[name]
        widths = sorted({_round8(f * d, d) for f in fractions} - {d})
        if name in timer.partner and timer.partner[name] in table.groups:
            # the twin half of a split block moves with the group measured first, which holds the pair's
            # saving; this one adds none (the latency model is additive)
            table.groups[name] = {"dense": d, "widths": [*widths, d], "ms": [table.groups[timer.partner[name]]["ms"][-1]]
                                  * (len(widths) + 1), "paired_with": timer.partner[name]}
            continue
        fns = [timer.runner(timer.with_group(name, w)) for w in widths]
        ms = interleaved_medians([dense_fn, *fns], runs, warmup, seed)
        dense_samples.append(ms[0])
        table.groups[name] = {"dense": d, "widths": [*widths, d], "ms": [*ms[1:], ms[0]]}
    table.dense_ms = float(np.median(dense_samples))
    # the staircase is read where latency moves most: the group whose smallest width saved the most
    widest = max((n for n in names if "paired_with" not in table.groups[n]),
                 key=lambda n: table.groups[n]["ms"][-1] - table.groups[n]["ms"][0])
    d = timer.dense[widest]
    fine = [w for w in range(8, d + 1, 8) if w >= d // 2]
    fns = [timer.runner(timer.with_group(widest, w)) for w in fine]
    table.staircase = {"group": widest, "widths": fine,
                       "ms": interleaved_medians(fns, runs, warmup, seed)}
    if validate:
        table.validation = validate_table(table, timer, validate, runs, warmup, seed, fractions, console, names)
    return table


def validate_table(table: LatencyTable, timer: VariantTimer, n: int, runs: int, warmup: int, seed: int,
                   fractions, console=None, names=None) -> dict:
    """Predicted vs measured end-to-end latency of ``n`` random variants (each timed interleaved with dense)."""
    rng = random.Random(seed + 1)
    low = min(fractions)
    dense_fn = timer.runner()
    rows = []
    for _ in TQDM(range(n), desc="validating the latency model", file=console):
        widths = dict(timer.dense)
        for g in names or timer.dense:
            widths = timer.with_group(g, _round8(rng.uniform(low, 1.0) * timer.dense[g], timer.dense[g]), widths)
        dense_ms, variant_ms = interleaved_medians([dense_fn, timer.runner(widths)], runs, warmup, seed)
        measured = variant_ms * table.dense_ms / dense_ms  # drift since the table was measured, removed
        predicted = table.predict(widths, calibrated=False)
        rows.append({"predicted": predicted, "measured": measured, "raw_ms": variant_ms, "dense_ms": dense_ms})

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
                 seed: int = 0):
        (self.fmt, self.precision), = parse_formats(format)
        if self.fmt.runner is None or self.precision == "int8":
            raise ConfigError(f"{format}: the closed loop measures openvino fp32/bf16/fp16 or onnx here (int8 needs "
                              "a calibrated export: check it with yolo-prune benchmark)")
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
            return VariantTimer(net, self.fmt, self.precision, self.imgsz, self.threads, folder, deployed=True).runner()

    def compare(self, model) -> dict:
        """``{"dense_ms", "pruned_ms", "ratio"}`` (ratio = model / dense), from one interleaved run."""
        dense_ms, pruned_ms = interleaved_medians([self._dense, self._runner(model)], self.runs, self.warmup, self.seed)
        return {"dense_ms": dense_ms, "pruned_ms": pruned_ms, "ratio": pruned_ms / dense_ms}


def measure_speedup(dense_model, pruned_model, format: str, imgsz: int, threads: int = 2, runs: int = 30,
                    warmup: int = 5, seed: int = 0) -> dict:
    """Dense vs pruned end to end as deployed, interleaved: ``{"dense_ms", "pruned_ms", "ratio"}``."""
    return LatencyMeter(dense_model, format, imgsz, threads, runs, warmup, seed).compare(pruned_model)


def cached_path(key: TableKey, cache_dir=None) -> Path:
    """Where the table with ``key`` lives in the cache (``$YOLOPRUNE_HOME/latency``)."""
    return (Path(cache_dir) if cache_dir else offline.yoloprune_home() / "latency") / f"{key.slug()}.json"


def merge(table_json, cache_dir=None) -> Path:
    """Bring a table measured elsewhere (a device bundle) into the cache, where pruning finds it by key."""
    table = LatencyTable.load(table_json)
    return write_json_atomic(table.to_dict(), cached_path(table.key, cache_dir))
