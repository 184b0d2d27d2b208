"""Same MACs, different architecture: how fast each criterion's pruned model runs on this CPU (OpenVINO).

Criteria spend a MACs budget differently: ``taylor_raw`` keeps the high-resolution early layers and
thins the deep ones, ``taylor`` (normalised per layer) and ``l2`` spread the cut. For each trained
dense checkpoint, every criterion prunes a copy one-shot to the same MACs target (the architecture
the callbacks' plan would reach), and each pruned model is timed side by side with the dense one
(batch 1, 2 threads, warm-up, median of --runs). Only latency and size are compared here: the
pruned models are not fine-tuned (mAP after fine-tuning: progressive_vs_oneshot.py).

    .venv/bin/python benchmarks/criterion_latency.py --models a/best.pt,b/best.pt --imgsz 320,640 \
        --out benchmarks/results/criterion_latency
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", required=True, help="trained dense .pt files, comma-separated")
    ap.add_argument("--data", default="shapes")
    ap.add_argument("--criteria", default="taylor_raw,taylor,l2")
    ap.add_argument("--amount", type=float, default=0.5, help="fraction of the dense MACs kept")
    ap.add_argument("--imgsz", default="320,640", help="image sizes to time at (MACs target counted at the first)")
    ap.add_argument("--formats", default="openvino:fp32")
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--out", default="benchmarks/results/criterion_latency")
    args = ap.parse_args()

    from yoloprune import offline

    offline.configure()
    from yoloprune.workflows.oneshot import prune
    from yoloprune.benchmarking.benchmark import benchmark

    out = Path(args.out).resolve()
    sizes = [int(s) for s in args.imgsz.split(",")]
    rows = []
    for dense_pt in args.models.split(","):
        stem = Path(dense_pt).parents[1].name  # .../<run>/weights/best.pt -> <run>
        for criterion in args.criteria.split(","):
            result = prune(dense_pt, data=args.data, criterion=criterion, target="macs", amount=args.amount,
                           imgsz=sizes[0], project=out / stem, name=criterion, exist_ok=True)
            for imgsz in sizes:
                report = benchmark(result.checkpoint, dense=dense_pt, project=out / stem / criterion,
                                   name=f"bench{imgsz}", exist_ok=True, formats=args.formats, imgsz=imgsz,
                                   runs=args.runs).report
                timed = {(r.format, r.precision, r.model): r for r in report.rows}
                for key, speedup in report.summary.items():  # "<format>:<precision> speedup", from summarize()
                    if not key.endswith(" speedup"):
                        continue
                    fmt, precision = key.removesuffix(" speedup").split(":")
                    d, r = timed[(fmt, precision, "dense")], timed[(fmt, precision, "pruned")]
                    rows.append({"model": stem, "criterion": criterion, "imgsz": imgsz, "format": f"{fmt}:{precision}",
                                 "params": result.report.pruned.params, "macs_kept": result.report.macs_kept,
                                 "dense_ms": d.latency_ms_median, "pruned_ms": r.latency_ms_median,
                                 "speedup": speedup, "size_mb": r.size_mb, "dense_size_mb": d.size_mb})
                    print(json.dumps(rows[-1]), flush=True)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps({"amount": args.amount, "runs": args.runs, "rows": rows}, indent=2))
    print("\n| model | criterion | imgsz | format | params | MACs kept | dense ms | pruned ms | speed-up | size MB |")
    print("|---|---|---:|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['model']} | {r['criterion']} | {r['imgsz']} | {r['format']} | {r['params']:,} | {r['macs_kept']:.1%} | "
              f"{r['dense_ms']:.1f} | {r['pruned_ms']:.1f} | {r['speedup']:.2f}x | {r['size_mb']:.1f} |")


if __name__ == "__main__":
    main()
