"""The report of ``real_models.py``: ``results.json``, ``table.md``, ``recovery.png`` and ``tradeoff.png`` from
whatever its stages have finished (a cell not yet measured reads "not run")."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

GOALS = {0.67: 0.005, 0.5: 0.010}  # latency kept -> mAP50-95 allowed below dense (the 1.5x and 2x goals)
INT8_GOAL = (3.5, 0.015)  # pruned 2x + INT8: at least this speed-up over dense FP32, within this many points


def mean_sd(values: list[float]) -> tuple[float, float] | None:
    if not values:
        return None
    return statistics.mean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def fmt(ms: tuple[float, float] | None, n: int = 0) -> str:
    if ms is None:
        return "not run"
    return f"{ms[0]:.4f} ± {ms[1]:.4f}" + (f" ({n})" if n else "")


def delta(ms, ref) -> str:
    return "" if ms is None or ref is None else f"{100 * (ms[0] - ref[0]):+.1f}"


class Runs:
    def __init__(self, runs: dict):
        self.runs = list(runs.values())

    def of(self, arm: str, epochs: int) -> list[dict]:
        return sorted((r for r in self.runs if r["arm"] == arm and r["epochs"] == epochs), key=lambda r: r["seed"])

    def stat(self, arm: str, epochs: int, split: str, seeds=None):
        return mean_sd([r[split] for r in self.of(arm, epochs) if seeds is None or r["seed"] in seeds])


def measured(state: dict, arm: str, runs: Runs, epochs: int) -> float | None:
    """Latency kept by ``arm`` (pruned / dense, OpenVINO FP32 here): the one-shot closed loop's measurement, the
    progressive runs' own (their seeds' mean)."""
    if arm == "dense":
        return 1.0
    from real_models import Arm

    parsed = Arm.parse(arm)
    if parsed.base == "oneshot":
        info = state["pruned"].get(parsed.pruned_key)
        return info["loop"]["measured"] if info else None
    vals = [r["measured"] for r in runs.of(arm, epochs) if r.get("measured") is not None]
    return statistics.mean(vals) if vals else None


def markdown(table: dict) -> list[str]:
    """A table of the report (title, headers, rows) as markdown lines; headers starting with ">" are numeric."""
    heads = [h.removeprefix(">") for h in table["headers"]]
    align = ["---:" if h.startswith(">") else "---" for h in table["headers"]]
    return [f"## {table['title']}", "", "| " + " | ".join(heads) + " |", "|" + "|".join(align) + "|",
            *("| " + " | ".join(str(c) for c in row) + " |" for row in table["rows"]), ""]


def write(bench) -> None:
    import real_data

    from yoloprune.io import write_json_atomic, write_text_atomic
    from yoloprune.profiling.timing import machine_info

    st, args, out = bench.state.data, bench.args, bench.out
    runs, E = Runs(st["runs"]), args.epochs
    machine = machine_info()
    start = st.get("start")
    dataset = real_data.DATASETS.get(args.data)
    intro = [f"Dataset: {dataset.cite() if dataset else args.data}. Images at {args.imgsz} px. Machine: {machine['cpu']} "
             f"({', '.join(machine['cpu_flags']) or 'no bf16/AMX flags'}), {args.threads} threads."]
    if start:
        src = start["source"]
        ran = (f"stopped early, patience {start['patience']}" if start["stopped_early"] else "all epochs ran")
        intro.append(f"Start (the user's model): {src['arch']} of `{src.get('wheel', src.get('file'))}` "
                     f"({src.get('licence', 'licence not recorded')}) transfer-trained with Ultralytics' defaults, "
                     f"{start['epochs_run']} of {start['epochs_asked']} epochs ({ran}); best epoch {start['best_epoch']}: "
                     f"val mAP50-95 {start['val']:.4f}, test {start['test']:.4f}. Val mAP50-95 per epoch: "
                     f"{' '.join(f'{v:.3f}' for v in start['curve'])}.")
    else:
        intro.append("Start: not trained yet.")
    if st.get("base_prune"):
        pinned = ", ".join(f"{k} {v}" for k, v in st["base_prune"].items())
        intro.append(f"Every arm's cut pins {pinned} (the product's default when these runs began; a change of the "
                     "cut overrides it).")
    tables, notes, goals = [], [], []

    # main arms, and the best pipeline the recovery stage found (--best) with its twins at the other amounts
    best = getattr(args, "best", None) or args.recover  # results written before --best: the recover arm
    from real_models import twins

    arms = list(dict.fromkeys([*bench.main_arms(), *(a for a in twins(best, args.amounts) if runs.of(a, E))]))
    summary, rows = {}, []
    for arm in arms:
        v, t, m = runs.stat(arm, E, "val"), runs.stat(arm, E, "test"), measured(st, arm, runs, E)
        seeds = [r["seed"] for r in runs.of(arm, E)]
        # against dense at the same seeds (a partial run may have trained dense at more)
        dv, dt = runs.stat("dense", E, "val", seeds), runs.stat("dense", E, "test", seeds)
        macs = st["pruned"].get(arm, {}).get("macs_kept") if arm.startswith("oneshot") else None
        summary[arm] = {"val": v, "test": t, "measured": m, "seeds": seeds, "dense_val": dv, "dense_test": dt}
        rows.append([arm, "" if m is None else f"{m:.3f}", "" if not m else f"{1 / m:.2f}x",
                     "" if macs is None else f"{macs:.3f}", fmt(v, len(seeds)), delta(v, dv), fmt(t), delta(t, dt)])
    tables.append({"title": f"Dense vs pruned at equal epochs ({E} fine-tune epochs from the start)",
                   "headers": ["arm", ">latency kept (measured)", ">speed-up", ">MACs kept",
                               ">val mAP50-95 (mean ± sd, seeds)", ">vs dense (points)", ">test mAP50-95",
                               ">vs dense (points)"], "rows": rows})
    from real_models import Arm

    for arm in arms[1:]:
        allowed, s = GOALS.get(Arm.parse(arm).amount), summary[arm]
        if allowed is None or s["val"] is None or s["dense_val"] is None:
            continue
        for split, ref in (("val", s["dense_val"]), ("test", s["dense_test"])):
            gap = s[split][0] - ref[0]
            goals.append({"arm": arm, "split": split, "gap_points": round(100 * gap, 2), "allowed_points": 100 * allowed,
                          "met": gap >= -allowed, "seeds": s["seeds"]})
            notes.append(f"Goal {arm} ({split}): within {100 * allowed:g} point(s) of dense: "
                         f"{'met' if gap >= -allowed else 'NOT met'} ({100 * gap:+.2f} points, seeds {s['seeds']}).")

    # right after the cut
    rows = []
    for key, info in st["pruned"].items():
        loop = info["loop"]
        said = " / ".join("not measured" if loop.get(k) is None else f"{loop[k]:.3f}" for k in ("predicted", "measured"))
        rows.append([key, f"{info['zero_shot_val']:.4f}", f"{info['zero_shot_bn_val']:.4f}", f"{info['macs_kept']:.3f}",
                     f"{info['params_kept']:.3f}", f"{loop['asked']} / {said}"])
    if rows:
        tables.append({"title": "Right after the cut (val)", "headers": [
            "model", ">mAP50-95", ">after BatchNorm re-estimate", ">MACs kept", ">params kept",
            "closed loop: asked / predicted / measured latency kept"], "rows": rows})

    # recovery
    from real_models import CHANGES

    rows = []
    tried = [r["arm"] for r in runs.runs if "+" in r["arm"] and r["epochs"] == E]  # an earlier run's changes too
    for arm in dict.fromkeys([args.recover, args.recover.replace("oneshot", "progressive"), *bench.recovery_arms(),
                              *tried]):
        base, seeds = arm.split("+")[0], [r["seed"] for r in runs.of(arm, E)]
        at = seeds or args.recovery_seeds  # an arm against its base at the seeds both ran
        v, t = runs.stat(arm, E, "val", at), runs.stat(arm, E, "test", at)
        m = measured(st, arm, runs, E)
        rows.append([arm, "; ".join(CHANGES[c].doc for c in arm.split("+")[1:]) or "the default pipeline",
                     "" if m is None else f"{m:.3f}", fmt(v, len(seeds)), "" if arm == base else delta(v, runs.stat(base, E, "val", at)), fmt(t),
                     "" if arm == base else delta(t, runs.stat(base, E, "test", at))])
    tables.append({"title": f"Recovery ({E} epochs, each change against its base at the same seeds)", "headers": [
        "arm", "change", ">latency kept (measured)", ">val mAP50-95", ">vs base (points)", ">test mAP50-95", ">vs base (points)"], "rows": rows})

    # runs set aside (e.g. they predate a product fix), beside their reruns
    rows = []
    for name, old in st.get("superseded", {}).items():
        new = st["runs"].get(name)
        rows.append([name, f"{old['val']:.4f}", f"{old['test']:.4f}", f"{new['val']:.4f}" if new else "not rerun yet",
                     f"{new['test']:.4f}" if new else "", old["reason"]])
    if rows:
        tables.append({"title": "Runs set aside, beside their reruns", "headers": [
            "run", ">val then", ">test then", ">val rerun", ">test rerun", "why"], "rows": rows})

    # runs renamed (a product default changed: the same settings under today's arm name)
    rows = [[name + (" (set aside)" if table == "superseded" else ""), r["from"], r["reason"]] for table in ("runs", "superseded") for name, rec in st.get(table, {}).items()
            for r in rec.get("renamed", [])]
    if rows:
        tables.append({"title": "Runs renamed (the same settings under today's name)", "headers": [
            "run", "ran as", "why"], "rows": rows})

    # recovery curve
    curve, rows = {}, []
    zero = st["pruned"].get(best, {}).get("zero_shot_val")  # a progressive arm has no model right after a cut
    if start:
        rows.append([0, f"{start['val']:.4f}", "" if zero is None else f"{zero:.4f}",
                     "" if zero is None else f"{100 * (zero - start['val']):+.1f}", f"{start['test']:.4f}", ""])
    cell = lambda rs, k: f"{rs[0][k]:.4f}" if rs else "not run"
    for e in sorted(set(args.curve) | {r["epochs"] for r in runs.runs if r["arm"] in ("dense", best)}):
        d = [r for r in runs.of("dense", e) if r["seed"] == 0]
        p = [r for r in runs.of(best, e) if r["seed"] == 0]
        if d or p:
            curve[e] = {"dense": d[0] if d else None, "pruned": p[0] if p else None}
        rows.append([e, cell(d, "val"), cell(p, "val"), f"{100 * (p[0]['val'] - d[0]['val']):+.1f}" if d and p else "",
                     cell(d, "test"), cell(p, "test")])
    tables.append({"title": "Recovery curve (seed 0; each epoch count its own run and schedule)", "headers": [
        ">fine-tune epochs", ">dense val", f">{best} val", ">gap (points)", ">dense test",
        f">{best} test"], "rows": rows})
    if curve:
        recovery_plot(curve, start, zero, best, out / "recovery.png")

    # speed: FP32 arms and INT8, timed together
    timing = st.get("timing", {}).get("models", {})
    if timing:
        dense_ms = timing["dense fp32"]["ms"]
        tables.append({"title": f"Speed, timed together (OpenVINO, {args.imgsz} px, batch 1, {args.threads} threads, "
                                f"medians of {st['timing']['runs']} interleaved rounds, seed-0 models)",
                       "headers": ["model", "precision that ran", ">ms", ">vs dense FP32", ">val mAP50-95",
                                   ">test mAP50-95"],
                       "rows": [[label, t["precision_ran"], f"{t['ms']:.2f}", f"{dense_ms / t['ms']:.2f}x",
                                 f"{t['val']:.4f}", f"{t['test']:.4f}"] for label, t in timing.items()]})
        q = timing.get(f"{best} int8")
        if q:
            speed, lost = dense_ms / q["ms"], timing["dense fp32"]["val"] - q["val"]
            ok = speed >= INT8_GOAL[0] and lost <= INT8_GOAL[1]
            notes.append(f"Goal {best} + INT8: >= {INT8_GOAL[0]}x dense FP32 within {100 * INT8_GOAL[1]:g} "
                         f"points: {'met' if ok else 'NOT met'} ({speed:.2f}x, {-100 * lost:+.1f} points on val, seed 0).")
            goals.append({"arm": f"{best}+int8", "split": "val", "speedup": round(speed, 3),
                          "gap_points": round(-100 * lost, 2), "met": ok})
        tradeoff_plot(timing, out / "tradeoff.png")
    minutes = st.get("minutes", {})
    notes.append(f"Wall time per stage (minutes, all runs so far): {json.dumps(minutes)}.")
    arch = start["source"]["arch"] if start else "model"
    lines = [f"# {args.data}: a pretrained {arch}, pruned to a measured 1.5x and 2x", "", *intro, ""]
    for table in tables:
        lines += markdown(table)
    lines += [*(f"- {n}" for n in notes), ""]
    lines += [f"![{p.stem}]({p.name})" for p in (out / "recovery.png", out / "tradeoff.png") if p.exists()]
    lines += ["", f"Command: `.venv/bin/python benchmarks/real_models.py --data {args.data} --out {args.out}`"]
    write_text_atomic("\n".join(lines) + "\n", out / "table.md")
    write_json_atomic({"settings": st.get("settings", {}), "machine": machine,
                       "dataset": dataset.record() if dataset else {"yaml": args.data}, "intro": intro,
                       "tables": tables, "notes": notes, "goals": goals, "summary": summary, "start": start,
                       "pruned": st["pruned"], "runs": st["runs"], "superseded": st.get("superseded", {}),
                       "curve": {str(k): v for k, v in curve.items()},
                       "timing": st.get("timing", {}), "minutes": minutes}, out / "results.json")
    print("\n".join(lines), flush=True)


def recovery_plot(curve: dict, start: dict | None, zero: float | None, arm: str, path: Path) -> None:
    from yoloprune.reporting.plots import _figure, _save

    fig, ax = _figure((7, 4))
    for key, label, first in (("dense", "dense (trained on)", start["val"] if start else None),
                              ("pruned", arm, zero)):
        pts = [(0, first)] if first is not None else []
        pts += [(e, c[key]["val"]) for e, c in sorted(curve.items()) if c[key]]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=label)
    ax.set_xlabel("fine-tune epochs (each its own run)")
    ax.set_ylabel("val mAP50-95")
    ax.set_title("how many epochs buy back how much")
    ax.grid(alpha=0.3)
    ax.legend()
    _save(fig, path, 110)


def tradeoff_plot(timing: dict, path: Path) -> None:
    from yoloprune.reporting.plots import pareto_plot

    points = []
    for label, t in timing.items():
        arm, precision = label.rsplit(" ", 1)
        points.append({"model": arm, "format": "openvino", "precision": precision, "latency_ms_median": t["ms"],
                       "map50_95": t["val"]})
    dense = timing["dense fp32"]["val"]
    pareto_plot(points, path, reference=(dense - INT8_GOAL[1], f"dense FP32 - {100 * INT8_GOAL[1]:g} points"))
