"""The run report: ``report.md`` (readable on GitHub), ``report.json`` and PNG plots, rebuilt from a run's files.

A run folder may hold any of: ``prune.json`` (one-shot or progressive), ``prune_schedule.json`` and
Ultralytics' ``results.csv`` (training), ``benchmark/benchmark.json`` (or ``benchmark.json``), and
``demo.json``. ``build_report(run_dir)`` reads what is there and writes what it can.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import YoloPruneError
from ..io import write_json_atomic, write_text_atomic
from .plots import pareto_plot, plot_curve, plot_layers
from .tables import markdown_table


def _load(path: Path):
    return json.loads(path.read_text()) if path.exists() else None


def _find(run: Path, name: str) -> Path | None:
    hits = sorted(run.rglob(name), key=lambda p: len(p.parts))
    return hits[0] if hits else None


@dataclass(frozen=True)
class RunContents:
    """What a run folder holds, as read from its files (each JSON file as written; None where absent)."""

    prune: dict | None  # prune.json (or the demo's pruning run)
    schedule: dict | None  # prune_schedule.json
    curve: list[dict]  # {"epoch", "map50_95"} per epoch of the training that pruned
    benchmark: dict | None  # benchmark.json
    demo: dict | None  # demo.json
    dense_map: float | None = None  # the demo's dense model (of equal epochs, where it has one) and pruned model
    pruned_map: float | None = None
    models: list[dict] = field(default_factory=list)  # the demo's model rows


def collect(run: Path) -> RunContents:
    """Everything the report needs, from the files in ``run``."""
    if not run.is_dir():
        raise YoloPruneError(f"run folder {run} not found: give the <project>/<name> folder of a yolo-prune run")
    prune = _load(_find(run, "prune.json") or run / "-")
    demo = _load(run / "demo.json")
    bench = _load(_find(run, "benchmark.json") or run / "-")
    if prune is None and demo is None and bench is None:
        raise YoloPruneError(f"{run} holds no prune.json, demo.json or benchmark.json: is it a yolo-prune run folder?")
    schedule = _load(_find(run, "prune_schedule.json") or run / "-")
    results_csv = _training_curve_file(run, schedule_path=_find(run, "prune_schedule.json"))
    curve = _read_curve(results_csv) if results_csv else []
    if demo:
        prune = prune or demo.get("prune")
    dense_map = pruned_map = None
    models = []
    if demo:  # the dense model the pruned one started from, the dense model at equal epochs, the pruned one
        # compare with the dense model trained as many epochs as the pruned one, where the run has it
        dense_map, pruned_map = demo["rows"][-2 if len(demo["rows"]) > 2 else 0]["map50_95"], demo["rows"][-1]["map50_95"]
        models = [{k: r.get(k) for k in ("model", "params", "macs", "epochs_label", "map50_95")} for r in demo["rows"]]
    return RunContents(prune, schedule, curve, bench, demo, dense_map, pruned_map, models)


def _training_curve_file(run: Path, schedule_path: Path | None) -> Path | None:
    """The ``results.csv`` of the training that pruned (beside its schedule), else of a fine-tune, else any."""
    if schedule_path is not None and (schedule_path.parent / "results.csv").exists():
        return schedule_path.parent / "results.csv"
    if (run / "finetune").is_dir() and _find(run / "finetune", "results.csv"):
        return _find(run / "finetune", "results.csv")
    return _find(run, "results.csv")


def _read_curve(path: Path) -> list[dict]:
    with open(path) as f:
        rows = list(csv.DictReader(f))
    out = []
    for r in rows:
        r = {k.strip(): v for k, v in r.items()}
        out.append({"epoch": int(float(r["epoch"])), "map50_95": float(r.get("metrics/mAP50-95(B)", 0) or 0)})
    return out


def _epochs(info: RunContents, index: int) -> str | None:
    """How long a demo row's model trained ("10 + 7"), for the dense (equal-epochs) and pruned rows."""
    models = info.models
    if len(models) < 3:
        return models[0 if index == -2 else -1].get("epochs_label") if models else None
    return models[index].get("epochs_label")


def report_json(info: RunContents) -> dict:
    """The layout of ``report.json``."""
    prune = info.prune or {}
    dense, pruned = prune.get("dense", {}), prune.get("pruned", {})
    bench = info.benchmark or {}
    return {
        "dense": {"params": dense.get("params"), "macs": dense.get("macs"), "map50_95": info.dense_map,
                  "epochs": _epochs(info, -2)},
        "pruned": {"params": pruned.get("params"), "macs": pruned.get("macs"), "map50_95": info.pruned_map,
                   "epochs": _epochs(info, -1)},
        "criterion": prune.get("criterion"), "config": prune.get("config"), "imgsz": prune.get("imgsz"),
        "schedule": (info.schedule or {}).get("history") or prune.get("history"),
        "benchmarks": bench.get("benchmarks", []), "benchmark_summary": bench.get("summary", {}),
        "benchmark_settings": {k: bench.get(k) for k in ("target", "imgsz", "batch", "threads", "warmup", "runs")},
        "machine": bench.get("machine"), "curve": info.curve, "models": info.models,
    }


def markdown(rep: dict, plots: list[str]) -> str:
    d, p = rep["dense"], rep["pruned"]
    fmt = lambda v, spec: "n/a" if v is None else format(v, spec)  # noqa: E731
    lines = ["# yoloprune run report", "",
             f"Criterion `{rep['criterion']}`, MACs counted at imgsz={rep['imgsz']}.", "",
             "| model | params | MACs (G) | epochs | mAP50-95 |", "|---|---:|---:|---|---:|"]
    models = rep.get("models") or [{**d, "model": "dense"}, {**p, "model": "pruned"}]
    lines += [f"| {m['model']} | {fmt(m['params'], ',')} | {fmt(m['macs'], '.3f')} | {m.get('epochs_label') or ''} | "
              f"{fmt(m['map50_95'], '.3f')} |" for m in models]
    if len(models) > 2:
        lines += ["", "Compare the pruned model with the dense model trained as many epochs in all (same recipe)."]
    lines += [""]
    if rep["schedule"]:
        lines += ["## Prune steps", "", "| step | epoch | MACs kept | params kept | seconds |", "|---:|---:|---:|---:|---:|"]
        lines += [f"| {s['step']} | {s.get('at_epoch', s['epoch']):g} | {s['macs_kept']:.1%} | {s['params_kept']:.1%} | {s['seconds']:.1f} |"
                  for s in rep["schedule"]] + [""]
    if rep["benchmarks"]:
        settings = {k: v for k, v in (rep.get("benchmark_settings") or {}).items() if v is not None}
        lines += ["## Benchmarks", "", markdown_table({"target": rep["benchmarks"][0]["target"], "imgsz": rep["imgsz"],
                                                       "threads": rep["benchmarks"][0].get("threads"), "runs": "?",
                                                       "warmup": "?", **settings,
                                                       "machine": rep["machine"] or {"cpu": "?"},
                                                       "benchmarks": rep["benchmarks"],
                                                       "summary": rep["benchmark_summary"]}), ""]
    lines += [f"![{name}]({name})" for name in plots]
    return "\n".join(lines) + "\n"


def build_report(run) -> Path:
    """Write ``report.md``, ``report.json`` and the plots into ``run``; return the markdown path."""
    run = Path(run)
    info = collect(run)
    rep = report_json(info)
    plots = []
    layers = (info.prune or {}).get("layers")
    if layers:
        plot_layers(layers, run / "channels_per_layer.png")
        plots.append("channels_per_layer.png")
    if info.curve:
        plot_curve(info.curve, rep["schedule"], run / "map_over_epochs.png", rep["dense"]["map50_95"])
        plots.append("map_over_epochs.png")
    if rep["benchmarks"] and any(r.get("latency_ms_median") for r in rep["benchmarks"]):
        pareto_plot(rep["benchmarks"], run / "pareto.png")
        plots.append("pareto.png")
    write_json_atomic(rep, run / "report.json")
    md = run / "report.md"
    write_text_atomic(markdown(rep, plots), md)
    return md
