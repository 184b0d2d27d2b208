"""Issue 30 benchmark: ``yolo-prune search`` on the real start of ``benchmarks/real_models.py`` against that benchmark's
hand sweep, and what Ray adds.

    .venv/bin/python benchmarks/search.py --data aquarium        # resumable; --stages to run some

The start: the real-model benchmark's transfer-trained YOLOv8s (``--from``, default
``benchmarks/results/real_models/<data>``: its ``runs/start/weights/best.pt``), at its image size.

Stages:
overhead  the same small search (``--overhead-trials`` trials of ``--overhead-epochs`` epochs, the progressive recipe
          only, every trial kept) run here and with Ray Tune in local mode (one trial at a time), one after the other:
          the wall time of each, per trial, and whether both ran the same trials to the same mAP
search    the search itself: ``--trials`` x ``--epochs`` trial-epochs within ``--max-drop`` points of the start's val
          mAP50-95, on this machine (OpenVINO FP32, 2 threads)
report    ``results.json`` and ``table.md``: the recommendation (its measured speed-up, val and test mAP50-95) and the
          search's wall time and trial-epochs, beside every arm of the hand sweep (each fine-tuned 10 epochs, the
          same start) with its wall time; the fastest of each within ``--max-drop`` of the start
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

STAGES = ("overhead", "search", "report")
RECIPE = {"batch": 16, "workers": 0, "cache": "ram", "plots": False}


def load(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def save(state: dict, path: Path) -> None:
    from yoloprune.io import write_json_atomic

    write_json_atomic(state, path)


def timed_search(start: Path, data: str, out: Path, name: str, **options) -> dict:
    """One search, resumed if its folder has a record; its wall time (this call's) and outcome."""
    from yoloprune import search

    began = time.monotonic()
    resume = (out / name / "search.json").exists()
    result = search(start, data=data, train_args=RECIPE, project=out, name=name, exist_ok=True, resume=resume,
                    **options)
    record = json.loads(result.report_json.read_text())
    return {"wall_s": time.monotonic() - began, "resumed": resume, "record": str(result.report_json),
            "trials": [{"index": t["index"], "spec": t["spec"], "status": t["status"], "maps": t["maps"],
                        "latency": t["latency"], "wall_s": t["wall_s"]} for t in record["trials"]],
            "recommended": record["recommended"], "recommended_map": record["recommended_map"],
            "dense_map": record["dense_map"], "command": record["command"]}


def overhead_stage(args, state: dict, start: Path, data: str) -> None:
    small = {"trials": args.overhead_trials, "epochs": args.overhead_epochs, "imgsz": args.imgsz, "max_drop": 50.0,
             "schedules": "progressive", "criteria": "taylor_raw", "allocations": "global", "distill": "none"}
    runs = state.setdefault("overhead", {})
    for name, extra in (("sequential", {}), ("ray", {"use_ray": True, "max_concurrent": 1})):
        if name not in runs:
            runs[name] = timed_search(start, data, args.out / "runs" / "overhead", name, **small, **extra)
            save(state, args.out / "state.json")


def search_stage(args, state: dict, start: Path, data: str) -> None:
    """The search (resumed where a stopped run left it: its wall time then adds the earlier runs'), and the
    recommendation's mAP50-95 on the held-out test split, which nothing in the search looked at."""
    from real_models import split_map

    earlier = state.get("search", {}).get("wall_s_total", 0.0)
    s = timed_search(start, data, args.out / "runs", "search", trials=args.trials, epochs=args.epochs, imgsz=args.imgsz,
                     max_drop=args.max_drop)
    s["wall_s_total"] = earlier + s["wall_s"]
    rec = next((t for t in json.loads(Path(s["record"]).read_text())["trials"] if t["index"] == s["recommended"]), None)
    s["recommended_test"] = split_map(Path(rec["checkpoint"]), Path(data), args.imgsz, "test") if rec else None
    state["search"] = s
    save(state, args.out / "state.json")


def hand_sweep(source: Path) -> tuple[list[dict], dict]:
    """The real-model benchmark's main and recovery arms at 10 epochs (mean of their seeds), and its start."""
    results = load(source / "results.json")
    rows = []
    for arm, s in (results.get("summary") or {}).items():
        if arm == "dense":
            continue
        minutes = [r["minutes"] for r in results["runs"].values() if r["arm"] == arm and r.get("minutes")]
        rows.append({"arm": arm, "latency": s.get("measured"), "val": s["val"][0], "test": s["test"][0],
                     "seeds": s["seeds"], "minutes": sum(minutes)})
    return rows, results.get("start", {})


def report_stage(args, state: dict) -> None:
    """``results.json`` (the tables as data: title, headers, rows; the intro and notes) and ``table.md``."""
    from yoloprune.io import write_text_atomic

    rows, start = hand_sweep(args.source)
    dense = start.get("val")
    intro = [f"Start: the transfer-trained YOLOv8s of the real-model benchmark ({args.data}, {args.imgsz} px), val "
             f"mAP50-95 {dense} (test {start.get('test')}). Budget: within {args.max_drop:g} point(s) of the start's "
             "val mAP50-95, as given. Machine: " + cpu_name() +
             f" ({', '.join(cpu_flags())}), OpenVINO FP32 (f32 compute), 2 threads."]
    ok = [r for r in rows if dense is not None and (dense - r["val"]) * 100 <= args.max_drop and r["latency"]]
    best = min(ok, key=lambda r: r["latency"]) if ok else None
    epochs = sum(10 * len(r["seeds"]) for r in rows)
    table = [[f"hand sweep ({len(rows)} arms x their seeds, 10 epochs each)", epochs,
              f"{sum(r['minutes'] for r in rows):.0f} min", best["arm"] if best else "none",
              f"{1 / best['latency']:.2f}x" if best else "-", f"{best['val']:.4f}" if best else "-",
              f"{best['test']:.4f}" if best else "-"]]
    out = {"settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
           "machine": {"cpu": cpu_name(), "cpu_flags": cpu_flags()},
           "hand_sweep": rows, "start": start, "intro": intro, "notes": []}
    s = state.get("search")
    if s:
        rec = next((t for t in s["trials"] if t["index"] == s["recommended"]), None)
        used = sum(len(t["maps"]) for t in s["trials"])
        test = s.get("recommended_test")
        table.append([f"search ({len(s['trials'])} trials)", used, f"{s.get('wall_s_total', s['wall_s']) / 60:.0f} min",
                      f"trial {rec['index']} ({rec['spec']['amount']} {rec['spec']['schedule']})" if rec else "none",
                      f"{1 / rec['latency']:.2f}x" if rec else "-",
                      f"{s['recommended_map']:.4f}" if rec else "-", test if (rec and test) else "-"])
        out["search"] = s
    else:
        out["notes"].append("The search itself has not run yet (stage search).")
    o = state.get("overhead")
    if o and {"sequential", "ray"} <= set(o):
        seq, ray = o["sequential"], o["ray"]
        same = [a["spec"] for a in seq["trials"]] == [b["spec"] for b in ray["trials"]]
        gaps = [abs(max(m for m in a["maps"] if m is not None) - max(m for m in b["maps"] if m is not None)) * 100
                for a, b in zip(seq["trials"], ray["trials"]) if a["maps"] and b["maps"]]
        n = len(seq["trials"])
        out["notes"].append(f"Ray local mode, one trial at a time, the same {n} trials: {ray['wall_s']:.0f} s vs "
                            f"{seq['wall_s']:.0f} s here ({(ray['wall_s'] - seq['wall_s']) / n:+.0f} s per trial). The "
                            f"same trials: {'yes' if same else 'no'}; their mAP50-95 {max(gaps, default=0):.1f} points "
                            "apart at most (each closed loop times the cut anew, so budgets and widths differ a little).")
        out["overhead"] = {"sequential_s": seq["wall_s"], "ray_s": ray["wall_s"], "trials": n, "same": same,
                           "map_gap_points": max(gaps, default=0.0)}
    headers = ["what", ">trial-epochs", ">wall time", "fastest within the budget", ">its speed-up (measured)", ">val",
               ">test"]
    out["tables"] = [{"title": "Search vs the hand sweep", "headers": headers, "rows": table}]
    args.out.mkdir(parents=True, exist_ok=True)
    save(out, args.out / "results.json")
    plain = [h.lstrip(">") for h in headers]
    md = [f"# Search vs the hand sweep ({args.data}, {args.imgsz} px)", "", *intro, "",
          "| " + " | ".join(plain) + " |", "|" + "---|" * len(plain),
          *("| " + " | ".join(str(c) for c in r) + " |" for r in table), "", *out["notes"]]
    write_text_atomic("\n".join(md) + "\n", args.out / "table.md")


def cpu_name() -> str:
    try:
        line = next(x for x in Path("/proc/cpuinfo").read_text().splitlines() if x.startswith("model name"))
        return line.split(":", 1)[1].strip()
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def cpu_flags() -> list[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return []
    wanted = ("avx512_bf16", "amx_bf16", "amx_int8", "avx512_vnni", "avx512f")
    return sorted({f for f in wanted if f" {f}" in text})


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="aquarium")
    ap.add_argument("--from", dest="source", type=Path, default=None,
                    help="the real-model benchmark's results folder (default benchmarks/results/real_models/<data>)")
    ap.add_argument("--imgsz", type=int, default=320)
    ap.add_argument("--trials", type=int, default=12)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--max-drop", type=float, default=1.0)
    ap.add_argument("--overhead-trials", type=int, default=2)
    ap.add_argument("--overhead-epochs", type=int, default=1)
    ap.add_argument("--stages", default=",".join(STAGES))
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    args.source = args.source or HERE / "results" / "real_models" / args.data
    args.out = args.out or HERE / "results" / "search" / args.data
    stages = [s for s in args.stages.split(",") if s]
    if any(s not in STAGES for s in stages):
        ap.error(f"--stages: use some of {', '.join(STAGES)}")
    start = args.source / "runs" / "start" / "weights" / "best.pt"
    if not start.exists() and set(stages) - {"report"}:
        sys.exit(f"search benchmark: no start model at {start}: run benchmarks/real_models.py --data {args.data} "
                 "--stages start first")
    sys.path.insert(0, str(HERE))
    from real_data import yaml_path

    data = str(yaml_path(args.data))
    state = load(args.out / "state.json")
    for stage in stages:
        if stage == "overhead":
            overhead_stage(args, state, start, data)
        elif stage == "search":
            search_stage(args, state, start, data)
        else:
            report_stage(args, state)


if __name__ == "__main__":
    main()
