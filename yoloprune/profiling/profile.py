"""Measure a model's latency table on this machine (``yolo-prune profile``; a device's table comes from its
profile kit, :mod:`yoloprune.profiling.kit`), and measure variants end to end.

For every prunable group, the model is pruned to a grid of widths (``fractions`` of the group's dense
width, rounded to multiples of 8) with every other group dense, exported to ONNX with Ultralytics'
exporter and timed with the format's own runtime (OpenVINO with the precision hint, ONNX Runtime) —
the group's variants and the dense model interleaved, medians of ``runs`` rounds. One group (the
widest) is also timed at every multiple of 8 near its dense width: the staircase ``round_to=auto``
reads. Then ``validate`` random variants are measured against the table's prediction (mean absolute
percentage error). INT8 (OpenVINO): every variant is quantised by Ultralytics' own NNCF export, as deployed,
calibrated on a handful of the dataset's validation images (``data=``): where NNCF puts its quantisers
depends on the graph, not on the calibration ranges, so the timing is the deployed model's. Tables are cached
by key under ``$YOLOPRUNE_HOME/latency``: profiling the same model, runtime, precision, image size and thread
count again is instant.

The parts a local profile shares with a device kit (widths, entries, validation, the cache) are in
:mod:`yoloprune.profiling.tables`; the variants and their timer in :mod:`yoloprune.profiling.variants`.
"""

from __future__ import annotations

import copy
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from ultralytics.utils import LOGGER, TQDM

from .. import offline
from ..core.config import from_options
from ..core.latency import LatencyTable, Staircase, TableKey, ValidationRow, fingerprint
from ..core.layers import layer_map
from ..errors import ConfigError
from ..export.formats import parse_formats
from ..integrations.ultralytics.model_io import load_model
from ..io import run_dir, write_json_atomic
from ..logs import third_party_logs_to
from ..reporting.plots import plot_latency_table
from .config import GRID, ProfileConfig
from .kit import merged_table
from .layers import (LayerCache, LayerModel, calibrate_layers, grid_shapes, group_entries, site_grids, staircase,
                     staircase_shapes, time_layers)
from .tables import (cached_path, grid_widths, layer_cache_path, measured_entry, merged_tables, reaches,
                     staircase_widths, table_summary, twin_entry, validate_model, validation_row,
                     validation_summary)
from .timing import TIMED_MS, Timing, enough_runs, interleaved_medians, machine_info
from .variants import CALIBRATION_IMAGES, RandomDraw, VariantTimer, calibration_args, random_draws

__all__ = ["CALIBRATION_IMAGES", "GRID", "TIMED_MS", "LatencyMeter", "ProfileConfig", "ProfileResult", "VariantTimer",
           "cached_path", "calibration_args", "grid_widths", "measure_speedup", "merged_tables", "profile", "random_rows",
           "reaches", "staircase_widths", "twin_entry", "validation_row", "validation_summary"]

# what each kind of random variant is timed for (the progress bar's words)
_DRAWN_FOR = {"fit": "calibrating on random variants", "validate": "validating on random variants"}


@dataclass(frozen=True)
class ProfileResult:
    """A profile: the latency table (``report``), the file it is cached in (None for a partial table, profiled
    with ``groups=``: never cached), and the run folder its JSON and plot were written into (None without
    ``project=``)."""

    report: LatencyTable
    cached: Path | None
    run_dir: Path | None

    @property
    def table(self) -> LatencyTable:
        """The latency table (``report``)."""
        return self.report


def profile(model, config: ProfileConfig | None = None, *, data=None, project=None, name: str = "exp",
            exist_ok: bool = False, debug: bool = False, cache_dir=None, **options) -> ProfileResult:
    """The latency table of ``model`` (a ``.pt`` or ``.yaml``) for ``config.format`` (one precision) on
    ``config.hardware``: measured on this machine, or for a device the table merged from its profile kit.

    ``config`` (a :class:`~yoloprune.profiling.config.ProfileConfig`) or its fields as keywords, e.g.
    ``profile("best.pt", format="onnx:fp32", imgsz=320)``. ``data`` (a dataset name or YAML) calibrates int8
    variants; other precisions need none. ``fit`` random variants fit the joint latency model, judged with the
    isolated one on ``validate`` other random variants; the better predictor is the table's model
    (``table.model``).

    Tables are cached by key under ``cache_dir`` (default ``$YOLOPRUNE_HOME/latency``): profiling the same model,
    runtime, precision, image size and thread count again is instant. ``project``: a run folder
    ``project/name`` gets ``latency_table.json``, ``latency_groups.png`` and the exporters' ``profile.log``
    (``debug=True``: their output on the console instead); without it the table is only cached.
    """
    offline.configure_if_requested()
    config = from_options(ProfileConfig, config, options)
    if not config.device.measured_here:  # only a table measured there and merged (a profile kit's) can answer
        table = merged_table(model, config, cache_dir)
        return _result(table, cached_path(table.key, cache_dir), run_dir(project, name, exist_ok) if project else None)
    fmt, precision = config.target
    if fmt.runner is None:
        raise ConfigError(f"format {fmt.name} cannot be timed on this machine: profile openvino or onnx here")
    why = fmt.precision_unavailable(precision)
    if why:
        raise ConfigError(why)
    calibration = calibration_args(fmt, precision, data)
    net, _ = load_model(model)
    out = run_dir(project, name, exist_ok) if project else None
    with tempfile.TemporaryDirectory() as tmp:
        timer = VariantTimer(net, fmt, precision, config.imgsz, config.threads, Path(tmp), calibration=calibration)
        key = TableKey(config.hardware, fmt.name, precision, config.imgsz, 1, config.threads, fingerprint(timer.dense))
        cached = cached_path(key, cache_dir) if config.groups is None else None
        table = _cached(cached, config) if cached is not None and cached.exists() else None
        if table is None:
            # the exporters' and runtimes' output: the run folder's log, else one beside the cached table
            log = None if debug else out / "profile.log" if out else cached_path(key, cache_dir).with_suffix(".log")
            start = time.perf_counter()
            with third_party_logs_to(log) as console:
                measure = _measure_layers if config.measured_by == "layers" else _measure
                table = measure(timer, key, config, console=console, cache_dir=cache_dir)
            LOGGER.info(f"yoloprune: {table_summary(table)} in {_duration(time.perf_counter() - start)}"
                        + (f" (log: {log})" if log else ""))
            if cached is not None:
                write_json_atomic(table.to_dict(), cached)
    return _result(table, cached, out)


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def _cached(path: Path, config: ProfileConfig) -> LatencyTable | None:
    """The cached table at ``path``, unless it must be measured again."""
    table = LatencyTable.load(path)
    if table.model is None:  # written before the joint model existed: measure again
        LOGGER.info(f"yoloprune: re-profiling {path.name}: it predates the joint latency model")
        return None
    method = table.measured_on.get("method", "variants")
    if config.method != "auto" and method != config.method:  # asked for the other method explicitly
        LOGGER.info(f"yoloprune: re-profiling {path.name}: it was measured by {method}, method={config.method} asked")
        return None
    if config.fractions and not reaches(table, config.fractions):  # asked to go deeper than cached
        LOGGER.info(f"yoloprune: re-profiling {path.name}: its narrowest measured widths are {table.depth():.0%} "
                    f"of their groups', fractions={','.join(map(str, config.fractions))} asks for "
                    f"{min(config.fractions):.0%}")
        return None
    return table


def _result(table: LatencyTable, cached: Path | None, out: Path | None) -> ProfileResult:
    """The result, ``table`` written with its plot into the run folder ``out`` when there is one."""
    if out is not None:
        write_json_atomic(table.to_dict(), out / "latency_table.json")
        plot_latency_table(table, out / "latency_groups.png")
    return ProfileResult(report=table, cached=cached, run_dir=out)


def _measure(timer: VariantTimer, key: TableKey, config: ProfileConfig, *, console=None,
             cache_dir=None) -> LatencyTable:
    """``method=variants``: time every group at the grid widths, the staircase and the random variants, each a
    whole exported model: the table of ``key``."""
    names = list(timer.dense)[:config.groups] if config.groups else list(timer.dense)
    dense_fn = timer.runner()
    timing = Timing(enough_runs(dense_fn, config.runs, config.warmup), config.warmup)
    table = LatencyTable(key=key, dense_ms=0.0,
                         measured_on={**machine_info(), "runs": timing.runs, "method": "variants"})
    dense_samples = []
    for name in TQDM(names, desc="profiling groups", file=console):
        d = timer.dense[name]
        widths = grid_widths(d, config.grid)
        twin = timer.partner.get(name)
        if twin is not None and twin in table.groups:
            table.groups[name] = twin_entry(table, twin, d, widths)
            continue
        fns = [timer.runner(timer.with_group(name, w)) for w in widths]
        ms = timing.medians([dense_fn, *fns], config.seed)
        dense_samples.append(ms[0])
        table.groups[name] = measured_entry(d, widths, ms[1:], ms[0])
    table.dense_ms = float(np.median(dense_samples))
    # the staircase is read where latency moves most: the group whose smallest width saved the most
    widest = max((n for n in names if not table.groups[n].paired),
                 key=lambda n: table.groups[n].ms[-1] - table.groups[n].ms[0])
    fine = staircase_widths(timer.dense[widest])
    fns = [timer.runner(timer.with_group(widest, w)) for w in fine]
    table.staircase = Staircase(group=widest, widths=fine, ms=timing.medians(fns, config.seed))
    if config.validate:
        fit, val = (random_rows(table, timer, dense_fn, draw, timing, names=names, console=console) if draw.n else []
                    for draw in random_draws(config, len(table.free())))
        validate_model(table, fit, val)
    return table


def _measure_layers(timer: VariantTimer, key: TableKey, config: ProfileConfig, *, console=None,
                    cache_dir=None) -> LatencyTable:
    """``method=layers``: every convolution pruning changes timed alone over a grid of its channels (cached by
    shape), the groups' entries and the staircase predicted from their sum, the sum calibrated on a few whole
    random variants and judged on others: the table of ``key``."""
    names = list(timer.dense)[:config.groups] if config.groups else list(timer.dense)
    fmt, precision = config.target
    map_ = layer_map(copy.deepcopy(timer.model), config.imgsz)
    if config.groups:  # a partial table: only the layers its groups change are timed
        map_ = map_.only(names)
    grids = site_grids(map_, config.grid)
    cache = LayerCache(layer_cache_path(key, cache_dir))
    start = time.perf_counter()
    how = {"runs": config.runs, "warmup": config.warmup, "seed": config.seed, "console": console}
    timed = time_layers(grid_shapes(map_, grids), fmt, precision, config.threads, cache, **how)
    layers = LayerModel(map_, grids, cache.__getitem__)
    dense_fn = timer.runner()
    timing = Timing(enough_runs(dense_fn, config.runs, config.warmup), config.warmup)
    dense_ms = timing.medians([dense_fn], config.seed)[0]
    table = LatencyTable(key=key, dense_ms=dense_ms, groups=group_entries(layers, dense_ms, config.grid,
                                                                         timer.with_group, timer.partner, names))
    widest = max(table.free(), key=lambda n: table.groups[n].ms[-1] - table.groups[n].ms[0])
    timed += time_layers(staircase_shapes(map_, widest, timer.with_group), fmt, precision, config.threads, cache, **how)
    table.staircase = staircase(layers, cache.__getitem__, dense_ms, widest, timer.with_group)
    table.measured_on = {**machine_info(), "runs": timing.runs, "method": "layers", "layer_sites": len(map_.sites),
                         "layer_shapes_timed": timed, "layer_seconds": round(time.perf_counter() - start, 1)}
    fit, val = (random_rows(table, timer, dense_fn, draw, timing, names=names, console=console) if draw.n else []
                for draw in random_draws(config, len(table.free())))
    calibrate_layers(table, layers, fit, val)
    return table


def random_rows(table: LatencyTable, timer: VariantTimer, dense_fn, draw: RandomDraw, timing: Timing, *,
                names=None, console=None) -> list[ValidationRow]:
    """``draw``'s random variants (of the groups ``names``; default all), each timed interleaved with the dense
    model ``dense_fn``, the rounds shuffled with the draw's seed."""
    rows = []
    for widths in TQDM(timer.drawn(draw, names), desc=_DRAWN_FOR.get(draw.role, draw.role), file=console):
        dense_ms, variant_ms = timing.medians([dense_fn, timer.runner(widths)], draw.seed)
        rows.append(validation_row(table, widths, variant_ms, dense_ms))
    return rows


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
