"""Dense vs pruned, side by side in one run: latency (median, p90), throughput, size and mAP50-95.

Each (format, precision) is exported for both models and timed with its native runtime at a fixed
thread count after warm-up, dense and pruned interleaved (shuffled order each round): PyTorch, ONNX
Runtime, OpenVINO (the inference precision that actually ran is read back from the compiled model and
reported). CoreML and TensorRT rows come from a device
bundle run on the Mac / Jetson and merged with :func:`import_device_results`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from ultralytics import YOLO
from ultralytics.utils import LOGGER

from .. import offline
from ..data.registry import resolve_dataset
from ..errors import ConfigError
from ..integrations.ultralytics.model_io import load_model
from ..io import write_json_atomic, write_text_atomic, write_torch_atomic
from ..logs import third_party_logs_to
from ..reporting.plots import pareto_plot
from ..reporting.tables import markdown_table
from .bundle import make_bundle
from ..export.exporter import export_all, size_mb
from ..export.formats import FORMATS, hardware as hardware_entry
from ..export.parity import val_map
from ..profiling.timing import interleaved_times, machine_info

ROW_KEYS = ("format", "precision", "target", "model", "latency_ms_median", "latency_ms_p90", "throughput_fps",
            "size_mb", "map50_95", "runtime_precision", "threads", "error")


def make_runner(path: Path, fmt: str, precision: str, imgsz: int, threads: int):
    """A zero-argument callable running one batch-1 inference, and the runtime precision it uses.

    ``fmt`` is ``pytorch`` (the checkpoint itself) or a format whose table entry has a runner.
    """
    if fmt == "pytorch":
        return _pytorch_runner(path, imgsz, threads)
    runner = FORMATS[fmt].runner if fmt in FORMATS else None
    if runner is None:
        raise ValueError(f"no local runtime for {fmt}")
    return runner(path, precision, imgsz, threads)


def _pytorch_runner(path: Path, imgsz: int, threads: int):
    if torch.get_num_threads() != threads:  # re-setting the same count made convs 20x slower here (measured)
        torch.set_num_threads(threads)
    torch.set_flush_denormal(True)  # denormals (common in barely trained weights) would dominate CPU timings
    model = YOLO(str(path)).model.float().eval().fuse()
    t = torch.from_numpy(np.random.default_rng(0).random((1, 3, imgsz, imgsz), dtype=np.float32))

    def run():
        with torch.inference_mode():
            model(t)

    return run, "fp32"


def _map(path, fmt, precision, data_yaml, imgsz) -> float | None:
    """mAP50-95 with the runtime computing in the precision asked for (OpenVINO: the compile hint)."""
    if data_yaml is None:
        return None
    return val_map(path, data_yaml, imgsz, scope=FORMATS[fmt].precision_scope(precision) if fmt in FORMATS else None)


def benchmark(pruned, dense=None, hardware: str = "intel-cpu", formats="openvino", imgsz: int = 640, data=None,
              threads: int = 2, warmup: int = 10, runs: int = 50, out_dir=None, log_file="auto",
              export_args: dict | None = None, target: str | None = None) -> dict:
    """Benchmark dense and pruned side by side on ``hardware``; returns (and writes) the report dict.

    ``intel-cpu`` is measured on this machine; ``jetson`` / ``iphone`` write a device bundle. Rows keep
    the key ``target`` for the hardware (the device bundles' schema). ``log_file`` receives the
    exporters' and validators' output (``"auto"``: ``out_dir/benchmark.log`` when there is an
    ``out_dir``; None: no capture, everything on the console); the console shows one progress bar
    per format timed (dense and pruned interleaved). ``target=`` is the old name of ``hardware=``.
    """
    offline.configure_if_requested()  # YOLOPRUNE_OFFLINE=1 only
    if target is not None:
        LOGGER.warning("yoloprune: benchmark(target=...) is deprecated: the deployment hardware is hardware=...")
        hardware = target
    device = hardware_entry(hardware)
    pruned = Path(pruned)
    dense = Path(dense) if dense else _recorded_dense(pruned)
    if dense.suffix in {".yaml", ".yml"}:  # a YAML reference: materialise it once so every format exports the same weights
        dense = _materialise(dense, Path(out_dir or pruned.parent))
    data_yaml = str(resolve_dataset(data)) if data else None
    if log_file == "auto":
        log_file = Path(out_dir) / "benchmark.log" if out_dir is not None else None
    settings = {"hardware": hardware, "target": hardware, "imgsz": imgsz, "threads": threads, "batch": 1,
                "warmup": warmup, "runs": runs, "machine": machine_info(), "dense": str(dense), "pruned": str(pruned),
                "log": str(log_file) if log_file else None}
    if not device.measured_here:  # not this machine: ship the models and a benchmark script to the device
        with third_party_logs_to(log_file):
            bundle = make_bundle({"dense": dense, "pruned": pruned}, device, imgsz, Path(out_dir or pruned.parent))
        report = {**settings, "bundle": str(bundle), "benchmarks": [], "summary": {}}
        if out_dir:
            write_outputs(report, Path(out_dir))
        return report
    rows, timed = [], []  # timed: (row, path) of every row with a local runtime, timed after all exports
    with third_party_logs_to(log_file) as console:
        for label, ckpt in (("dense", dense), ("pruned", pruned)):
            results = export_all(ckpt, formats, data=data, imgsz=imgsz, console=console, export_args=export_args)
            # the export check already validated the checkpoint and each export: reuse, do not validate twice
            checked = next((r.map50_95_pytorch for r in results if r.map50_95_pytorch is not None), None)
            rows.append(_row(ckpt, "pytorch", "fp32", hardware, label, threads, known_map=checked))
            timed.append((rows[-1], ckpt))
            for result in results:
                why = result.skipped or (None if result.ok else (result.error or "export failed"))
                why = why or FORMATS[result.format].why_not_runnable()
                rows.append(_row(result.file, result.format, result.precision, hardware, label, threads,
                                 result.size_mb, known_map=result.map50_95, error=why))
                if not why:
                    timed.append((rows[-1], Path(result.file)))
        for fmt_precision in dict.fromkeys((r["format"], r["precision"]) for r, _ in timed):
            _time_side_by_side([(r, p) for r, p in timed if (r["format"], r["precision"]) == fmt_precision],
                               imgsz, threads, warmup, runs, data_yaml, console)
    report = {**settings, "benchmarks": rows, "summary": summarize(rows)}
    if out_dir:
        write_outputs(report, Path(out_dir))
    return report




def _row(path, fmt, precision, target, label, threads, size=None, known_map=None, error=None) -> dict:
    size = size if size is not None or error else size_mb(Path(path))
    return {**dict.fromkeys(ROW_KEYS), "format": fmt, "precision": precision, "target": target, "model": label,
            "threads": None if error else threads, "size_mb": size, "map50_95": known_map, "error": error}


def _time_side_by_side(items: list[tuple[dict, Path]], imgsz, threads, warmup, runs, data_yaml, console) -> None:
    """Time one format's models (dense and pruned) interleaved, then fill in their rows (and mAP if not known)."""
    ready, fns = [], []
    for row, path in items:
        try:
            run, row["runtime_precision"] = make_runner(Path(path), row["format"], row["precision"], imgsz, threads)
            run()  # a model that cannot run fails here, alone, before the side-by-side timing
            ready.append((row, path))
            fns.append(run)
        except Exception as e:  # a broken runtime is one row's error, not the run's end
            row["error"] = f"{type(e).__name__}: {e}"
    if not fns:
        return
    desc = f"timing {' vs '.join(r['model'] for r, _ in ready)} {ready[0][0]['format']}:{ready[0][0]['precision']}"
    try:
        times_of = interleaved_times(fns, runs, warmup, desc=desc, console=console)
    except Exception as e:
        for row, _ in ready:
            row["error"] = f"timing failed: {type(e).__name__}: {e}"
        return
    for (row, path), times in zip(ready, times_of):
        row["latency_ms_median"], row["latency_ms_p90"] = float(np.median(times)), float(np.percentile(times, 90))
        row["throughput_fps"] = 1000.0 / row["latency_ms_median"]
        try:
            if row["map50_95"] is None:
                row["map50_95"] = _map(path, row["format"], row["precision"], data_yaml, imgsz)
        except Exception as e:
            row["error"] = f"{type(e).__name__}: {e}"


def summarize(rows: list[dict]) -> dict:
    """Speed-ups pruned vs dense per (format, precision), and pruned INT8 vs dense FP32 per runtime."""
    timed = {(r["format"], r["precision"], r["model"]): r for r in rows if r.get("latency_ms_median")}
    out = {}
    for (fmt, prec, model), r in timed.items():
        if model == "pruned" and (fmt, prec, "dense") in timed:
            d = timed[(fmt, prec, "dense")]
            out[f"{fmt}:{prec} speedup"] = d["latency_ms_median"] / r["latency_ms_median"]
            if r.get("map50_95") is not None and d.get("map50_95") is not None:
                out[f"{fmt}:{prec} map_delta"] = r["map50_95"] - d["map50_95"]
    for fmt in {k[0] for k in timed}:
        if (fmt, "int8", "pruned") in timed and (fmt, "fp32", "dense") in timed:
            out[f"{fmt} pruned-int8 vs dense-fp32"] = (
                timed[(fmt, "fp32", "dense")]["latency_ms_median"] / timed[(fmt, "int8", "pruned")]["latency_ms_median"])
    return out




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


def write_outputs(report: dict, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(report, out_dir / "benchmark.json")
    write_text_atomic(markdown_table(report), out_dir / "benchmark.md")
    pareto_plot(report["benchmarks"], out_dir / "pareto.png")


def import_device_results(report_path, device_json) -> dict:
    """Merge rows measured on a device (same schema, from a device bundle) into a local benchmark.json."""
    report = json.loads(Path(report_path).read_text())
    device = json.loads(Path(device_json).read_text())
    missing = [k for r in device["benchmarks"] for k in ("format", "precision", "model", "latency_ms_median") if k not in r]
    if missing:
        raise ConfigError(f"{device_json} is not a device benchmark result (missing {sorted(set(missing))})")
    keep = [r for r in report["benchmarks"] if (r["format"], r["target"]) not in
            {(d["format"], d["target"]) for d in device["benchmarks"]}]
    report["benchmarks"] = keep + device["benchmarks"]
    report["summary"] = summarize(report["benchmarks"])
    write_json_atomic(report, report_path)
    return report
