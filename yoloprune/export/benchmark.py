"""Dense vs pruned, side by side in one run: latency (median, p90), throughput, size and mAP50-95.

Each (format, precision) is exported for both models and timed with its native runtime at a fixed
thread count after warm-up: PyTorch, ONNX Runtime, OpenVINO (the inference precision that actually
ran is read back from the compiled model and reported). CoreML and TensorRT rows come from a device
bundle run on the Mac / Jetson and merged with :func:`import_device_results`.
"""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

import numpy as np

from .formats import FORMATS, TARGETS, parse_formats

ROW_KEYS = ("format", "precision", "target", "model", "latency_ms_median", "latency_ms_p90", "throughput_fps",
            "size_mb", "map50_95", "runtime_precision", "threads", "error")


def _timeit(fn, warmup: int, runs: int, desc: str = "timing", console=None) -> tuple[float, float]:
    from ultralytics.utils import TQDM  # noqa: PLC0415

    for _ in range(warmup):
        fn()
    times = []
    for _ in TQDM(range(runs), desc=desc, total=runs, file=console):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return float(np.median(times)), float(np.percentile(times, 90))


def make_runner(path: Path, fmt: str, precision: str, imgsz: int, threads: int):
    """A zero-argument callable running one batch-1 inference, and the runtime precision it uses."""
    x = np.random.default_rng(0).random((1, 3, imgsz, imgsz), dtype=np.float32)
    if fmt == "pytorch":
        import torch  # noqa: PLC0415
        from ultralytics import YOLO  # noqa: PLC0415

        if torch.get_num_threads() != threads:  # re-setting the same count made convs 20x slower here (measured)
            torch.set_num_threads(threads)
        torch.set_flush_denormal(True)  # denormals (common in barely trained weights) would dominate CPU timings
        model = YOLO(str(path)).model.float().eval().fuse()
        t = torch.from_numpy(x)
        return _no_grad(model, t), "fp32"
    if fmt == "onnx":
        import onnxruntime as ort  # noqa: PLC0415

        opts = ort.SessionOptions()
        opts.intra_op_num_threads, opts.inter_op_num_threads = threads, 1
        opts.add_session_config_entry("session.set_denormal_as_zero", "1")
        sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        name = sess.get_inputs()[0].name
        return (lambda: sess.run(None, {name: x})), "fp32"
    if fmt == "openvino":
        from .openvino_precision import compile_ir  # noqa: PLC0415

        compiled, ran = compile_ir(path, precision, threads, extra={"CPU_DENORMALS_OPTIMIZATION": True})
        request = compiled.create_infer_request()
        weights = "fp32" if precision == "bf16" else precision  # the bf16 row runs the FP32 IR with a bf16 hint
        return (lambda: request.infer({0: x})), f"{weights} weights, {ran} compute"
    raise ValueError(f"no local runtime for {fmt}")


def _no_grad(model, t):
    import torch  # noqa: PLC0415

    def run():
        with torch.inference_mode():
            model(t)

    return run


def _map(path, fmt, precision, data_yaml, imgsz) -> float | None:
    """mAP50-95 with the runtime computing in the precision asked for (OpenVINO: the compile hint)."""
    if data_yaml is None:
        return None
    import contextlib  # noqa: PLC0415

    from .exporter import validate_map  # noqa: PLC0415

    with FORMATS[fmt].precision_scope(precision) if fmt in FORMATS else contextlib.nullcontext():
        return validate_map(path, data_yaml, imgsz)


def benchmark(pruned, dense=None, hardware: str = "intel-cpu", formats="openvino", imgsz: int = 640, data=None,
              threads: int = 2, warmup: int = 10, runs: int = 50, out_dir=None, log_file="auto",
              export_args: dict | None = None, target: str | None = None) -> dict:
    """Benchmark dense and pruned side by side on ``hardware``; returns (and writes) the report dict.

    ``intel-cpu`` is measured on this machine; ``jetson`` / ``iphone`` write a device bundle. Rows keep
    the key ``target`` for the hardware (the device bundles' schema). ``log_file`` receives the
    exporters' and validators' output (``"auto"``: ``out_dir/benchmark.log`` when there is an
    ``out_dir``; None: no capture, everything on the console); the console shows one progress bar
    per timed model. ``target=`` is the old name of ``hardware=``.
    """
    from .. import offline  # noqa: PLC0415

    offline.configure_if_requested()
    from ultralytics.utils import LOGGER  # noqa: PLC0415

    from ..data import resolve_dataset  # noqa: PLC0415
    from ..errors import ConfigError  # noqa: PLC0415
    from ..logs import third_party_logs_to  # noqa: PLC0415
    from .exporter import export_all  # noqa: PLC0415

    if target is not None:
        LOGGER.warning("yoloprune: benchmark(target=...) is deprecated: the deployment hardware is hardware=...")
        hardware = target
    if hardware not in TARGETS:
        raise ConfigError(f"unknown hardware {hardware!r}: use one of {', '.join(TARGETS)}")
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
    if hardware != "intel-cpu":  # not this machine: ship the models and a benchmark script to the device
        from .bundle import make_bundle  # noqa: PLC0415

        with third_party_logs_to(log_file):
            bundle = make_bundle({"dense": dense, "pruned": pruned}, hardware, imgsz, Path(out_dir or pruned.parent))
        report = {**settings, "bundle": str(bundle), "benchmarks": [], "summary": {}}
        if out_dir:
            write_outputs(report, Path(out_dir))
        return report
    rows = []
    with third_party_logs_to(log_file) as console:
        for label, ckpt in (("dense", dense), ("pruned", pruned)):
            results = export_all(ckpt, formats, data=data, imgsz=imgsz, console=console, export_args=export_args)
            # the export check already validated the checkpoint and each export: reuse, do not validate twice
            checked = next((r.map50_95_pytorch for r in results if r.map50_95_pytorch is not None), None)
            rows.append(_measure(ckpt, "pytorch", "fp32", hardware, label, imgsz, threads, warmup, runs, data_yaml,
                                 console=console, known_map=checked))
            for result in results:
                why = result.skipped or (None if result.ok else (result.error or "export failed"))
                why = why or FORMATS[result.format].why_not_runnable()
                if why:
                    rows.append({**dict.fromkeys(ROW_KEYS), "format": result.format, "precision": result.precision,
                                 "target": hardware, "model": label, "size_mb": result.size_mb, "error": why})
                    continue
                rows.append(_measure(Path(result.file), result.format, result.precision, hardware, label, imgsz,
                                     threads, warmup, runs, data_yaml, result.size_mb, console=console,
                                     known_map=result.map50_95))
    report = {**settings, "benchmarks": rows, "summary": summarize(rows)}
    if out_dir:
        write_outputs(report, Path(out_dir))
    return report


def machine_info() -> dict:
    """The CPU, its bf16/AMX flags (OpenVINO's default precision depends on them) and the OS."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        text = ""
    flags = {f for f in ("avx512_bf16", "amx_bf16", "amx_int8", "avx512_vnni", "avx512f") if f" {f}" in text}
    return {"cpu": _cpu_name(text), "cpu_flags": sorted(flags), "system": platform.platform()}


def _measure(path, fmt, precision, target, label, imgsz, threads, warmup, runs, data_yaml, size=None, console=None,
             known_map=None) -> dict:
    from .exporter import size_mb  # noqa: PLC0415

    row = {**dict.fromkeys(ROW_KEYS), "format": fmt, "precision": precision, "target": target, "model": label,
           "threads": threads, "size_mb": size if size is not None else size_mb(Path(path))}
    try:
        run, row["runtime_precision"] = make_runner(Path(path), fmt, precision, imgsz, threads)
        row["latency_ms_median"], row["latency_ms_p90"] = _timeit(run, warmup, runs, f"timing {label} {fmt}:{precision}",
                                                                  console)
        row["throughput_fps"] = 1000.0 / row["latency_ms_median"]
        row["map50_95"] = known_map if known_map is not None else _map(path, fmt, precision, data_yaml, imgsz)
    except Exception as e:  # a broken runtime is one row's error, not the run's end
        row["error"] = f"{type(e).__name__}: {e}"
    return row


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


def _cpu_name(cpuinfo: str) -> str:
    """The ``model name`` line of ``/proc/cpuinfo`` (its text), else what the platform says."""
    for line in cpuinfo.splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def _materialise(cfg: Path, out_dir: Path) -> Path:
    import torch  # noqa: PLC0415

    from ..checkpoint import atomic_save, load_model  # noqa: PLC0415

    model, _ = load_model(cfg)
    path = out_dir / f"dense-{cfg.stem}.pt"
    atomic_save({"model": model, "train_args": {"model": str(cfg), "task": "detect"}, "epoch": -1}, path)
    torch.manual_seed(0)
    return path


def _recorded_dense(pruned: Path) -> Path:
    from ..checkpoint import load_model  # noqa: PLC0415
    from ..errors import ConfigError  # noqa: PLC0415

    model, ckpt = load_model(pruned)
    meta = getattr(model, "yoloprune", None) or ckpt.get("yoloprune") or {}
    source = meta.get("source")
    if source and Path(source).suffix in {".yaml", ".yml"}:
        return Path(source)
    if not source or not Path(source).exists():
        raise ConfigError(f"{pruned} records no dense checkpoint that still exists: pass dense=<dense .pt or .yaml>")
    return Path(source)


def write_outputs(report: dict, out_dir: Path) -> None:
    from ..atomic import write_json_atomic  # noqa: PLC0415

    out_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(report, out_dir / "benchmark.json")
    from ..atomic import write_text_atomic  # noqa: PLC0415

    write_text_atomic(markdown_table(report), out_dir / "benchmark.md")
    pareto_plot(report["benchmarks"], out_dir / "pareto.png")


def markdown_table(report: dict) -> str:
    flags = ", ".join(report["machine"].get("cpu_flags") or []) or "no bf16/AMX flags"
    lines = [f"Hardware {report.get('hardware') or report['target']} on {report['machine']['cpu']} ({flags}), "
             f"batch 1, imgsz {report['imgsz']}, "
             f"{report['threads']} threads, median of {report['runs']} runs after {report['warmup']} warm-up\n",
             "| model | format | precision | runtime precision | median ms | p90 ms | FPS | size MB | mAP50-95 | note |",
             "|---|---|---|---|---:|---:|---:|---:|---:|---|"]
    fmt = lambda v, p=2: "" if v is None else f"{v:.{p}f}"  # noqa: E731
    for r in report["benchmarks"]:
        lines.append(f"| {r['model']} | {r['format']} | {r['precision']} | {r.get('runtime_precision') or ''} | "
                     f"{fmt(r['latency_ms_median'])} | {fmt(r['latency_ms_p90'])} | {fmt(r.get('throughput_fps'), 1)} | "
                     f"{fmt(r['size_mb'])} | {fmt(r['map50_95'], 3)} | {r.get('error') or ''} |")
    lines += ["", "| comparison | value |", "|---|---:|"]
    lines += [f"| {k} | {v:.3f} |" for k, v in report["summary"].items()]
    return "\n".join(lines) + "\n"


def pareto_plot(rows: list[dict], path: Path) -> None:
    """Accuracy (mAP50-95, or size when no dataset) against latency, dense and pruned."""
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, ax = plt.subplots(figsize=(7, 4.5))
    have_map = any(r.get("map50_95") is not None for r in rows)
    for model, marker in (("dense", "o"), ("pruned", "s")):
        pts = [r for r in rows if r["model"] == model and r.get("latency_ms_median")]
        ys = [r["map50_95"] if have_map else r["size_mb"] for r in pts]
        ax.scatter([r["latency_ms_median"] for r in pts], ys, marker=marker, label=model, s=50)
        for r, y in zip(pts, ys):
            ax.annotate(f"{r['format']}:{r['precision']}", (r["latency_ms_median"], y), fontsize=7,
                        xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel("latency, median ms (batch 1)")
    ax.set_ylabel("mAP50-95" if have_map else "model size, MB")
    ax.set_title("accuracy vs latency" if have_map else "size vs latency")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def import_device_results(report_path, device_json) -> dict:
    """Merge rows measured on a device (same schema, from a device bundle) into a local benchmark.json."""
    from ..atomic import write_json_atomic  # noqa: PLC0415

    report = json.loads(Path(report_path).read_text())
    device = json.loads(Path(device_json).read_text())
    missing = [k for r in device["benchmarks"] for k in ("format", "precision", "model", "latency_ms_median") if k not in r]
    if missing:
        from ..errors import ConfigError  # noqa: PLC0415

        raise ConfigError(f"{device_json} is not a device benchmark result (missing {sorted(set(missing))})")
    keep = [r for r in report["benchmarks"] if (r["format"], r["target"]) not in
            {(d["format"], d["target"]) for d in device["benchmarks"]}]
    report["benchmarks"] = keep + device["benchmarks"]
    report["summary"] = summarize(report["benchmarks"])
    write_json_atomic(report, report_path)
    return report
