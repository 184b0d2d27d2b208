"""Dense vs pruned, side by side in one run: latency (median, p90), throughput, size and mAP50-95.

Each (format, precision) is exported for both models and timed with its native runtime at a fixed
thread count after warm-up, dense and pruned interleaved (shuffled order each round): PyTorch, ONNX
Runtime, OpenVINO (the inference precision that actually ran is read back from the compiled model and
reported). CoreML and TensorRT rows come from a device bundle run on the Mac / Jetson and merged with
:func:`import_device_results`.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from .. import offline
from ..core.config import from_options
from ..data.registry import resolve_dataset
from ..errors import ConfigError
from ..export.exporter import ExportResult, export_all, size_mb
from ..export.formats import BENCHMARK_FORMATS, PYTORCH
from ..export.parity import val_map
from ..integrations.ultralytics.model_io import load_model
from ..io import run_dir, write_torch_atomic
from ..logs import third_party_logs_to
from ..profiling.timing import interleaved_times, machine_info
from .bundle import make_bundle
from .config import BenchmarkConfig
from .report import ROW_KEYS, BenchmarkReport, BenchmarkRow, import_device_results, summarize, write_outputs

__all__ = ["ROW_KEYS", "BenchmarkConfig", "BenchmarkReport", "BenchmarkResult", "BenchmarkRow", "benchmark",
           "import_device_results", "make_runner", "summarize", "write_outputs"]


@dataclass(frozen=True)
class BenchmarkResult:
    """What :func:`benchmark` measured (``report``; ``report.to_dict()`` is ``benchmark.json``) and where its
    files are (``run_dir``: ``benchmark.json``, ``benchmark.md``, ``pareto.png``, ``benchmark.log``, or the
    device bundle; None when nothing was written)."""

    report: BenchmarkReport
    run_dir: Path | None

    def __getitem__(self, key: str):
        """The dict ``benchmark`` returned before (deprecated): ``result["summary"]`` is ``result.report.summary``."""
        warnings.warn(f"benchmark() returns a BenchmarkResult: read result.report (result[{key!r}] is "
                      f"result.report.to_dict()[{key!r}])", DeprecationWarning, stacklevel=2)
        return self.report.to_dict()[key]


def benchmark(pruned, config: BenchmarkConfig | None = None, *, dense=None, data=None,
              project: str | Path | None = "runs/benchmark", name: str = "exp", exist_ok: bool = False,
              debug: bool = False, **options) -> BenchmarkResult:
    """Benchmark ``pruned`` against its ``dense`` model side by side on ``config.hardware``.

    ``options`` are :class:`BenchmarkConfig` fields (``hardware``, ``formats``, ``imgsz``, ``threads``,
    ``warmup``, ``runs``, ``export_args``) when no ``config`` is given (both is an error). ``dense``: the
    dense ``.pt`` or ``.yaml`` (default: the one the pruned checkpoint records). ``data`` (a dataset name or
    YAML) calibrates INT8 and gives each row its mAP50-95. ``intel-cpu`` is measured on this machine;
    ``jetson``, ``iphone`` and ``mac`` get a device bundle in the run folder. The results go to
    ``project/name`` (``project=None``: no files), the exporters' and validators' output to its
    ``benchmark.log`` (``debug=True``: on the console); the console shows one progress bar per format timed.

    Deprecated, still accepted: ``target=`` (now ``hardware=``), ``out_dir=`` (the results folder itself;
    now ``project=``/``name=``), ``log_file=`` and the dense model as the second positional argument.
    """
    offline.configure_if_requested()  # YOLOPRUNE_OFFLINE=1 only
    if isinstance(config, (str, os.PathLike)):
        _deprecated("benchmark(pruned, dense) is deprecated: pass the dense model as dense=...")
        config, dense = None, config
    legacy = {k: options.pop(k) for k in _OLD_KEYWORDS if k in options}
    for key in legacy:
        _deprecated(_OLD_KEYWORDS[key])
    if "target" in legacy:
        if "hardware" in options:
            raise ConfigError("give hardware= only (target= is its deprecated spelling)")
        options["hardware"] = legacy["target"]
    config = from_options(BenchmarkConfig, config, options)
    pruned = Path(pruned)
    dense = Path(dense) if dense else _recorded_dense(pruned)
    data_yaml = str(resolve_dataset(data)) if data else None
    out, log = _destination(project, name, exist_ok, debug, legacy)
    if dense.suffix in {".yaml", ".yml"}:  # a YAML reference: materialise it once so every format exports the same weights
        dense = _materialise(dense, out or pruned.parent)
    report = BenchmarkReport(config, dense=str(dense), pruned=str(pruned), machine=machine_info(),
                             log=str(log) if log else None)
    if not config.device.measured_here:  # not this machine: ship the models and a benchmark script to the device
        with third_party_logs_to(log):
            bundle = make_bundle({"dense": dense, "pruned": pruned}, config.device, config.imgsz, out or pruned.parent)
        report = replace(report, bundle=str(bundle))
    else:
        rows = _measure({"dense": dense, "pruned": pruned}, config, data_yaml, log)
        report = replace(report, rows=tuple(rows), summary=summarize([r.to_dict() for r in rows]))
    if out is not None:
        write_outputs(report.to_dict(), out)
    return BenchmarkResult(report, out)


# keywords benchmark() took before, still accepted: what to say instead
_OLD_KEYWORDS = {
    "target": "benchmark(target=...) is deprecated: the deployment hardware is hardware=...",
    "out_dir": "benchmark(out_dir=...) is deprecated: give project= and name= (the results go to project/name)",
    "log_file": "benchmark(log_file=...) is deprecated: the log is the run folder's benchmark.log (debug=True shows "
                "it on the console)",
}


def _deprecated(message: str) -> None:
    warnings.warn(message, DeprecationWarning, stacklevel=3)


def _destination(project, name: str, exist_ok: bool, debug: bool, legacy: dict) -> tuple[Path | None, Path | None]:
    """(results folder, log file): ``project/name`` and its ``benchmark.log`` (none with debug=True);
    the deprecated ``out_dir=`` / ``log_file=`` as they worked before."""
    if "out_dir" in legacy:
        out = Path(legacy["out_dir"]) if legacy["out_dir"] is not None else None
    else:
        out = run_dir(project, name, exist_ok) if project is not None else None
    log = legacy.get("log_file", "auto")
    if log == "auto":
        return out, (out / "benchmark.log" if out is not None and not debug else None)
    return out, Path(log) if log is not None else None


def _measure(models: dict[str, Path], config: BenchmarkConfig, data_yaml, log) -> list[BenchmarkRow]:
    """Export each model, then time every runnable (format, precision) with dense and pruned interleaved."""
    rows, timed = [], []  # timed: (row, path) of every row with a local runtime, timed after all exports
    with third_party_logs_to(log) as console:
        for label, ckpt in models.items():
            results = export_all(ckpt, config.export, data=data_yaml, console=console)
            # the export check already validated the checkpoint and each export: reuse, do not validate twice
            checked = next((r.map50_95_pytorch for r in results if r.map50_95_pytorch is not None), None)
            rows.append(BenchmarkRow(PYTORCH.name, PYTORCH.precisions[0], config.hardware, label,
                                     size_mb=size_mb(Path(ckpt)), map50_95=checked, threads=config.threads))
            timed.append((rows[-1], Path(ckpt)))
            for result in results:
                rows.append(_export_row(result, label, config))
                if rows[-1].error is None:
                    timed.append((rows[-1], Path(result.file)))
        for fmt_precision in dict.fromkeys((r.format, r.precision) for r, _ in timed):
            _time_side_by_side([(r, p) for r, p in timed if (r.format, r.precision) == fmt_precision],
                               config, data_yaml, console)
    return rows


def _export_row(result: ExportResult, label: str, config: BenchmarkConfig) -> BenchmarkRow:
    """An export's row before timing: its size and mAP, or why it cannot be timed here."""
    why = result.skipped or (None if result.ok else (result.error or "export failed"))
    why = why or BENCHMARK_FORMATS[result.format].why_not_runnable()
    return BenchmarkRow(result.format, result.precision, config.hardware, label, size_mb=result.size_mb,
                        map50_95=result.map50_95, threads=None if why else config.threads, error=why)


def make_runner(path: Path, fmt: str, precision: str, imgsz: int, threads: int):
    """A zero-argument callable running one batch-1 inference, and the runtime precision it uses.

    ``fmt`` names an entry of ``BENCHMARK_FORMATS`` with a runner: ``pytorch`` (the checkpoint itself) or
    an export format this machine runs.
    """
    entry = BENCHMARK_FORMATS.get(fmt)
    if entry is None or entry.runner is None:
        raise ValueError(f"no local runtime for {fmt}")
    return entry.runner(Path(path), precision, imgsz, threads)


def _time_side_by_side(items: list[tuple[BenchmarkRow, Path]], config: BenchmarkConfig, data_yaml, console) -> None:
    """Time one format's models (dense and pruned) interleaved, then fill in their rows (and mAP if not known)."""
    ready, fns = [], []
    for row, path in items:
        try:
            run, row.runtime_precision = make_runner(path, row.format, row.precision, config.imgsz, config.threads)
            run()  # a model that cannot run fails here, alone, before the side-by-side timing
            ready.append((row, path))
            fns.append(run)
        except Exception as e:  # a broken runtime is one row's error, not the run's end
            row.error = f"{type(e).__name__}: {e}"
    if not fns:
        return
    desc = f"timing {' vs '.join(r.model for r, _ in ready)} {ready[0][0].format}:{ready[0][0].precision}"
    try:
        times_of = interleaved_times(fns, config.runs, config.warmup, desc=desc, console=console)
    except Exception as e:
        for row, _ in ready:
            row.error = f"timing failed: {type(e).__name__}: {e}"
        return
    for (row, path), times in zip(ready, times_of):
        row.latency_ms_median, row.latency_ms_p90 = float(np.median(times)), float(np.percentile(times, 90))
        row.throughput_fps = 1000.0 / row.latency_ms_median
        try:
            if row.map50_95 is None and data_yaml is not None:
                row.map50_95 = _map(path, row, data_yaml, config.imgsz)
        except Exception as e:
            row.error = f"{type(e).__name__}: {e}"


def _map(path: Path, row: BenchmarkRow, data_yaml, imgsz: int) -> float:
    """mAP50-95 with the runtime computing in the precision asked for (OpenVINO: the compile hint)."""
    return val_map(path, data_yaml, imgsz, scope=BENCHMARK_FORMATS[row.format].precision_scope(row.precision))


def _materialise(cfg: Path, out_dir: Path) -> Path:
    model, _ = load_model(cfg)
    path = out_dir / f"dense-{cfg.stem}.pt"
    write_torch_atomic({"model": model, "train_args": {"model": str(cfg), "task": "detect"}, "epoch": -1}, path)
    torch.manual_seed(0)
    return path


def _recorded_dense(pruned: Path) -> Path:
    model, ckpt = load_model(pruned)
    meta = getattr(model, "yoloprune", None) or ckpt.get("yoloprune") or {}
    source = meta.get("source")
    if source and Path(source).suffix in {".yaml", ".yml"}:
        return Path(source)
    if not source or not Path(source).exists():
        raise ConfigError(f"{pruned} records no dense checkpoint that still exists: pass dense=<dense .pt or .yaml>")
    return Path(source)
