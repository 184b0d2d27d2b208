"""Markdown tables: the benchmark table, the export summary and the demo's model table."""

from __future__ import annotations

LATENCY_COLUMNS = (("fp32", "OpenVINO FP32 ms"), ("bf16", "OpenVINO BF16 ms"), ("int8", "OpenVINO INT8 ms"))


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


def export_table(results) -> str:
    """One summary table for an export run (``ExportResult``s): status, size, time, parity and mAP per
    format:precision."""
    lines = ["| format | status | size MB | seconds | runtime precision | max abs err | mAP50-95 (PyTorch) | file |",
             "|---|---|---:|---:|---|---:|---|---|"]
    for r in results:
        status = "ok" if r.ok else (f"skipped: {r.skipped}" if r.skipped else f"FAILED: {r.error}")
        err = f"{r.parity.max_abs_error:.2e}" if r.parity.measured else (r.parity.skipped or "")
        m = f"{r.map50_95:.3f} ({r.map50_95_pytorch:.3f})" if r.map50_95 is not None else ""
        lines.append(f"| {r.format}:{r.precision} | {status} | {r.size_mb or 0:.2f} | {r.seconds:.1f} | "
                     f"{r.runtime_precision or ''} | {err} | {m} | {r.file or ''} |")
    return "\n".join(lines)


def format_table(rows: list[dict]) -> str:
    """Markdown table of model rows: params, MACs, epochs trained, mAP50-95 and the OpenVINO latencies measured.

    A latency column appears when some row has it (no bf16 column on a CPU without bf16); the
    epochs column says how long each model trained, so the rows compare at a glance.
    """
    columns = [(p, title) for p, title in LATENCY_COLUMNS if any(r.get(f"openvino_{p}_ms") is not None for r in rows)]

    def row(cells) -> str:  # no empty cell when no latency was measured
        return "| " + " | ".join(cells) + " |"

    lines = [row(["model", "params", "MACs (G)", "epochs", "mAP50-95", *(t for _, t in columns)]),
             "|---|---:|---:|---|---:|" + "---:|" * len(columns)]
    ms = lambda v: "n/a" if v is None else f"{v:.1f}"  # noqa: E731
    for r in rows:
        lines.append(row([r["model"], f"{r['params']:,}", f"{r['macs']:.3f}", r.get("epochs_label", ""),
                          f"{r['map50_95']:.3f}", *(ms(r.get(f"openvino_{p}_ms")) for p, _ in columns)]))
    return "\n".join(lines)
