"""Issue 16 benchmark: pruning to a measured latency vs pruning to MACs, measured side by side on this CPU.

    .venv/bin/python benchmarks/latency_target.py [--models yolov8n,yolo11n] [--imgsz 640] \
        [--format openvino:fp32] [--amounts 0.5,0.33] [--out benchmarks/results/latency_target]

For each model (built from its YAML with ``torch.manual_seed(0)``: latency does not depend on the
weights' values) it profiles the latency table (``yolo-prune profile``; cached), then prunes one-shot
(criterion l2, no data) to each ``amount`` with ``target=latency`` for each of ``--allocations`` (``global``,
the default: the global ranking cut where the table predicts the amount; ``knapsack``: HALP's knapsack over
the table; then the closed loop: measure, correct, re-solve) and with ``target=macs`` (same amount of MACs kept), and
measures every pruned model against the dense one end to end (interleaved medians, ``--runs``).
Reports asked vs measured speed-up, the latency model's prediction error (MAPE on random variants
and on the pruned models), and writes ``results.json`` + ``table.md``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def seeded(model: str, folder: Path) -> Path:
    path = folder / f"{Path(model).stem}-seed0.pt"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        code = f"import torch\nfrom ultralytics import YOLO\ntorch.manual_seed(0)\nYOLO({model!r}).save({str(path)!r})\n"
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="yolov8n.yaml,yolo11n.yaml")
    ap.add_argument("--imgsz", type=int, default=640)
    ap.add_argument("--format", default="openvino:fp32")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--amounts", default="0.5,0.33")
    ap.add_argument("--allocations", default="global,knapsack", help="target=latency allocations to compare")
    ap.add_argument("--round-to", default="8", help="channel rounding(s) for target=latency, e.g. 8,auto")
    ap.add_argument("--runs", type=int, default=60, help="interleaved timing rounds per comparison")
    ap.add_argument("--validate", type=int, default=10, help="random variants the latency model is checked on")
    ap.add_argument("--out", default="benchmarks/results/latency_target")
    args = ap.parse_args()

    from yoloprune import offline

    offline.configure()  # benchmarks run offline, like the demo
    from yoloprune.core.config import PruneConfig
    from yoloprune.profiling.timing import machine_info
    from yoloprune.profiling.profile import cached_path, measure_speedup, profile
    from yoloprune.workflows.oneshot import LatencyCheck, prune

    out = Path(args.out).resolve()
    rows, tables = [], {}
    for model in args.models.split(","):
        ckpt = seeded(model, out / "models")
        table = profile(ckpt, format=args.format, imgsz=args.imgsz, threads=args.threads, validate=args.validate,
                        project=out, name=Path(model).stem, exist_ok=True).report
        tables[model] = {"dense_ms": table.dense_ms, "groups": len(table.groups), "round_to_auto": table.round_to(),
                         "mape_random_variants": table.validation.mape,
                         "mape_additive": table.validation.mape_additive, "calibration": table.calibration,
                         "model": table.model,
                         "cache": str(cached_path(table.key))}
        print(f"{model}: dense {table.dense_ms:.2f} ms, {len(table.groups)} groups, "
              f"MAPE {table.validation.mape:.1%}", flush=True)
        for amount in (float(a) for a in args.amounts.split(",")):
            arms = [("latency", a, r) for a in args.allocations.split(",") for r in args.round_to.split(",")]
            for target, allocation, rounding in arms + [("macs", "global", "8")]:
                round_to = rounding if rounding == "auto" else int(rounding)
                suffix = "" if target == "macs" else f"-{allocation}" + ("" if rounding == "8" else f"-round{rounding}")
                name = f"{Path(model).stem}-{target}-{amount}{suffix}"
                cfg = PruneConfig(criterion="l2", target=target, amount=amount, imgsz=args.imgsz, allocation=allocation,
                                  round_to=round_to,
                                  latency_table=str(cached_path(table.key)) if target == "latency" else "")
                check = LatencyCheck(format=args.format, threads=args.threads, runs=args.runs)
                result = prune(ckpt, cfg, project=out / "runs", name=name, exist_ok=True,
                               check=check if target == "latency" else None)
                speed = measure_speedup(ckpt, result.checkpoint, args.format, args.imgsz, args.threads, args.runs)
                lat = result.latency or {}
                rows.append({"model": model, "target": target, "allocation": allocation, "round_to": rounding,
                             "amount": amount, "asked_speedup": 1 / amount,
                             "predicted_fraction": lat.get("predicted"), "loop_measured_fraction": lat.get("measured"),
                             "loop_iterations": len(lat.get("iterations", [])),
                             "measured_fraction": speed["ratio"], "measured_speedup": 1 / speed["ratio"],
                             "dense_ms": speed["dense_ms"], "pruned_ms": speed["pruned_ms"],
                             "macs_kept": result.report.macs_kept, "params_kept": result.report.params_kept})
                r = rows[-1]
                print(f"  {target}={amount} ({allocation}, round_to={rounding}): measured {r['measured_speedup']:.2f}x (asked {r['asked_speedup']:.2f}x), "
                      f"MACs kept {r['macs_kept']:.2f}", flush=True)
    result = {"settings": vars(args), "machine": machine_info(), "tables": tables, "rows": rows}
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(result, indent=2))
    lines = [f"{args.format} at {args.imgsz} px, batch 1, {args.threads} threads, on {result['machine']['cpu']} "
             f"({', '.join(result['machine']['cpu_flags']) or 'no bf16/AMX flags'}); medians of {args.runs} "
             "interleaved rounds, dense vs pruned in the same run\n",
             "| model | target (allocation, round_to) | amount | asked speed-up | measured speed-up | measured / asked | predicted latency | "
             "measured latency | MACs kept | params kept |", "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        pred = f"{r['predicted_fraction']:.3f}" if r["predicted_fraction"] is not None else ""
        lines.append(f"| {r['model']} | {r['target']} ({r['allocation']}, {r['round_to']}) | {r['amount']} | {r['asked_speedup']:.2f}x | "
                     f"{r['measured_speedup']:.2f}x | {r['measured_speedup'] / r['asked_speedup']:.0%} | {pred} | "
                     f"{r['measured_fraction']:.3f} | {r['macs_kept']:.3f} | {r['params_kept']:.3f} |")
    lines += ["", f"| model | dense ms | groups | round_to=auto | additive model MAPE | calibration | latency model "
              f"| its MAPE ({args.validate} held-out random variants) |", "|---|---:|---:|---:|---:|---:|---|---:|"]
    lines += [f"| {m} | {t['dense_ms']:.2f} | {t['groups']} | {t['round_to_auto']} | {t['mape_additive']:.1%} | "
              f"{t['calibration']:.2f} | {t['model']} | {t['mape_random_variants']:.1%} |" for m, t in tables.items()]
    (out / "table.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
