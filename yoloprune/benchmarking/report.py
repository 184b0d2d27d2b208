"""What ``benchmark.json`` holds: the settings, one row per (model, format, precision), and the speed-ups;
written with its Markdown table and Pareto plot, and merged with rows measured on a device."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from ..errors import ConfigError
from ..io import write_json_atomic, write_text_atomic
from ..reporting.plots import pareto_plot
from ..reporting.tables import markdown_table
from .config import BenchmarkConfig


@dataclass
class BenchmarkRow:
    """One model in one format and precision: its latency, size and mAP50-95, or why it was not timed.

    ``target`` is the hardware (the device bundles' schema keeps that key). Filled in as the run goes:
    the export's size and mAP first, the timings after every export is made.
    """

    format: str  # "pytorch" (the checkpoint itself) or an export format
    precision: str
    target: str
    model: str  # "dense" or "pruned"
    latency_ms_median: float | None = None
    latency_ms_p90: float | None = None
    throughput_fps: float | None = None
    size_mb: float | None = None
    map50_95: float | None = None
    runtime_precision: str | None = None  # what the runtime computed in (OpenVINO reports it)
    threads: int | None = None
    error: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


ROW_KEYS = tuple(f.name for f in fields(BenchmarkRow))  # every row's keys, in file order


@dataclass(frozen=True)
class BenchmarkReport:
    """A benchmark run: the config it ran with, the models and machine, and its rows; ``bundle`` when the
    hardware is a device (its rows come from running the bundle there and merging the results)."""

    config: BenchmarkConfig
    dense: str  # the checkpoints compared
    pruned: str
    machine: dict  # this machine: CPU, its bf16/AMX flags, OS
    log: str | None  # where the exporters' and validators' output went (None: the console)
    rows: tuple[BenchmarkRow, ...] = ()
    bundle: str | None = None
    summary: dict[str, float] = field(default_factory=dict)  # see :func:`summarize`

    def to_dict(self) -> dict:
        """The layout of ``benchmark.json``."""
        c = self.config
        settings = {"hardware": c.hardware, "target": c.hardware, "imgsz": c.imgsz, "threads": c.threads, "batch": 1,
                    "warmup": c.warmup, "runs": c.runs, "machine": self.machine, "dense": self.dense,
                    "pruned": self.pruned, "log": self.log}
        return {**settings, **({"bundle": self.bundle} if self.bundle is not None else {}),
                "benchmarks": [r.to_dict() for r in self.rows], "summary": dict(self.summary)}


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


def write_outputs(report: dict, out_dir: Path) -> None:
    """``benchmark.json``, ``benchmark.md`` and ``pareto.png`` of a report (as ``BenchmarkReport.to_dict()``
    gives it, or as read back from a ``benchmark.json``)."""
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
