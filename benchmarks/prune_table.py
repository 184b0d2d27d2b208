"""Architecture x scale x target -> params and MACs before/after and prune time (one-shot, l2, global).

    .venv/bin/python benchmarks/prune_table.py [--imgsz 640] [--scales n,s,m,l,x] [--out benchmarks/results/prune_table.json]

MACs are counted at --imgsz (Torch-Pruning's counter, batch 1). Each row prunes a freshly built model.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ARCHS = {"yolov8": "yolov8{}.yaml", "yolo11": "yolo11{}.yaml", "yolo26": "yolo26{}.yaml"}
TARGETS = [("macs", 0.5), ("params", 0.5), ("ratio", 0.3)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--imgsz", type=int, default=640)
    ap.add_argument("--scales", default="n,s,m,l,x")
    ap.add_argument("--archs", default=",".join(ARCHS))
    ap.add_argument("--out", default="benchmarks/results/prune_table.json")
    args = ap.parse_args()

    from yoloprune import offline

    offline.configure()
    import torch
    from ultralytics.nn.tasks import DetectionModel
    from ultralytics.utils import LOGGER

    from yoloprune import PruneConfig
    from yoloprune.core.prune import prune_

    LOGGER.setLevel("WARNING")
    rows = []
    for arch in args.archs.split(","):
        for scale in args.scales.split(","):
            cfg = ARCHS[arch].format(scale)
            for target, amount in TARGETS:
                torch.manual_seed(0)
                model = DetectionModel(cfg, nc=80, verbose=False)
                t0 = time.perf_counter()
                report = prune_(model, PruneConfig(criterion="l2", target=target, amount=amount, imgsz=args.imgsz))
                seconds = time.perf_counter() - t0
                row = {
                    "model": cfg, "target": f"{target}={amount}",
                    "params_dense": report.dense.params, "params_pruned": report.pruned.params,
                    "macs_dense_g": round(report.dense.macs, 3), "macs_pruned_g": round(report.pruned.macs, 3),
                    "params_kept": round(report.params_kept, 4), "macs_kept": round(report.macs_kept, 4),
                    "achieved": round(report.achieved, 4), "prune_s": round(seconds, 2),
                }
                rows.append(row)
                print(f"| {cfg} | {row['target']} | {row['params_dense']:,} -> {row['params_pruned']:,} | "
                      f"{row['macs_dense_g']:.2f} -> {row['macs_pruned_g']:.2f} | {row['achieved']:.3f} | {seconds:.1f} |",
                      flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"imgsz": args.imgsz, "criterion": "l2", "rows": rows}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    print("| model | target | params dense -> pruned | GMACs dense -> pruned | achieved | prune s |")
    print("|---|---|---:|---:|---:|---:|")
    main()
