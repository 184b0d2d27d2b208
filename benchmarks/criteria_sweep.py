"""Which criterion and allocation keep the most of a trained model: mAP right after one-shot pruning.

For a trained dense checkpoint, every (criterion, allocation) pair prunes a fresh copy to the same
target and reports mAP50-95 on the val split straight after pruning and after re-estimating the
BatchNorm statistics on a few training batches (no weight update: the stats of layers whose inputs
lost channels are stale). A cheap proxy for how much a fine-tune has to recover, measured side by side.

    .venv/bin/python benchmarks/criteria_sweep.py --model best.pt --data shapes --imgsz 320 \
        --out benchmarks/results/criteria_sweep
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def recalibrate_bn(model, batches, n: int) -> int:
    """Re-estimate every BatchNorm's running mean/var as a plain average over ``n`` batches; return batches used."""
    import torch
    from torch import nn

    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None  # cumulative moving average
    model.train()
    used = 0
    with torch.no_grad():
        for batch in itertools.islice(batches, n):
            model(batch["img"])
            used += 1
    for bn in bns:
        bn.momentum = 0.03  # Ultralytics' value
    model.eval()
    return used


def evaluate(model, data: str, imgsz: int, source: str) -> float:
    from ultralytics import YOLO

    from yoloprune.integrations.ultralytics.model_io import save_pruned

    with tempfile.TemporaryDirectory() as tmp:
        pt = save_pruned(model, Path(tmp) / "candidate.pt", source=source, meta={})
        return float(YOLO(str(pt)).val(data=data, imgsz=imgsz, batch=16, plots=False, verbose=False).box.map)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, help="trained dense .pt")
    ap.add_argument("--data", default="shapes")
    ap.add_argument("--imgsz", type=int, default=320)
    ap.add_argument("--target", default="macs")
    ap.add_argument("--amount", type=float, default=0.5)
    ap.add_argument("--criteria", default="l1,l2,bn_scale,lamp,taylor,taylor_raw,random")
    ap.add_argument("--allocations", default="global,local")
    ap.add_argument("--max-layer-ratios", default="0.9",
                    help="PruneConfig.max_layer_ratio values to sweep (comma-separated; the floor on any layer)")
    ap.add_argument("--bn-batches", type=int, default=32, help="training batches for the BatchNorm re-estimate")
    ap.add_argument("--out", default="benchmarks/results/criteria_sweep")
    args = ap.parse_args()

    from yoloprune import offline

    offline.configure()
    from yoloprune import PruneConfig
    from yoloprune.data.loaders import detection_batches
    from yoloprune.integrations.ultralytics.model_io import load_model
    from yoloprune.data import resolve_dataset
    from yoloprune.core.prune import prune_
    from yoloprune.core.criteria import CRITERIA

    data = str(resolve_dataset(args.data))
    dense, _ = load_model(args.model)
    rows = [{"criterion": "(dense)", "allocation": "-", "macs_g": None, "map_pruned": evaluate(dense, data, args.imgsz, args.model),
             "map_bn_recalibrated": None}]
    ratios = [float(r) for r in args.max_layer_ratios.split(",")]
    for criterion, allocation, ratio in itertools.product(args.criteria.split(","), args.allocations.split(","), ratios):
        net, _ = load_model(args.model)
        cfg = PruneConfig(criterion=criterion, allocation=allocation, target=args.target, amount=args.amount,
                          imgsz=args.imgsz, max_layer_ratio=ratio)
        batches = detection_batches(data, args.imgsz) if CRITERIA[criterion].needs_gradients else None
        report = prune_(net, cfg, batches=batches)
        net.eval()
        zero_shot = evaluate(net, data, args.imgsz, args.model)
        recalibrate_bn(net, detection_batches(data, args.imgsz), args.bn_batches)
        rows.append({"criterion": criterion, "allocation": allocation, "max_layer_ratio": ratio, "macs_g": report.pruned.macs,
                     "params": report.pruned.params, "map_pruned": zero_shot,
                     "map_bn_recalibrated": evaluate(net, data, args.imgsz, args.model)})
        print(json.dumps(rows[-1]), flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps({"model": args.model, "target": args.target, "amount": args.amount,
                                                  "imgsz": args.imgsz, "bn_batches": args.bn_batches, "rows": rows},
                                                 indent=2))
    print(f"\n| criterion | allocation | max_layer_ratio | GMACs@{args.imgsz} | params | mAP50-95 pruned | after BN re-estimate |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for r in rows:
        macs = f"{r['macs_g']:.3f}" if r["macs_g"] else "-"
        recal = f"{r['map_bn_recalibrated']:.3f}" if r["map_bn_recalibrated"] is not None else "-"
        print(f"| {r['criterion']} | {r['allocation']} | {r.get('max_layer_ratio', '-')} | {macs} | "
              f"{r.get('params', '-')} | {r['map_pruned']:.3f} | {recal} |")


if __name__ == "__main__":
    main()
