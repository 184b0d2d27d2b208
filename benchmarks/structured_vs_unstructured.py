"""Issue 16 benchmark: structured pruning vs unstructured sparsity at equal (non-zero) parameters.

    .venv/bin/python benchmarks/structured_vs_unstructured.py --model runs/demo/demo/dense/weights/best.pt \
        [--data shapes] [--params 0.5] [--imgsz 320] [--out benchmarks/results/structured_vs_unstructured]

From one trained dense checkpoint: a structured one-shot prune to ``--params`` of the parameters
(criterion taylor_raw on ``--data``) and an unstructured global-magnitude sparsification to the same
number of non-zero parameters. For each (and the dense model), side by side: CoreML FP16 package size
(sparse weights stored sparse; spec checked here, prediction needs macOS), OpenVINO FP32 latency on
this CPU (interleaved medians: a dense runtime runs sparse weights at dense speed), and mAP50-95 on the
validation split right after pruning (zero-shot: no fine-tuning for either).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, help="trained dense .pt")
    ap.add_argument("--data", default="shapes")
    ap.add_argument("--params", type=float, default=0.5, help="fraction of the parameters kept (non-zero)")
    ap.add_argument("--imgsz", type=int, default=320)
    ap.add_argument("--runs", type=int, default=60)
    ap.add_argument("--out", default="benchmarks/results/structured_vs_unstructured")
    args = ap.parse_args()

    from yoloprune import offline

    offline.configure()
    from yoloprune.core.config import PruneConfig
    from yoloprune.core.unstructured import sparsify_
    from yoloprune.integrations.ultralytics.model_io import load_model
    from yoloprune.data.registry import resolve_dataset
    from yoloprune.profiling.timing import machine_info
    from yoloprune.export.exporter import export_all
    from yoloprune.export.parity import val_map
    from yoloprune.profiling.profile import measure_speedup
    from yoloprune.workflows.oneshot import prune
    from yoloprune.workflows.sparsify import sparsify

    out = Path(args.out).resolve()
    data_yaml = resolve_dataset(args.data)
    structured = prune(args.model, PruneConfig(criterion="taylor_raw", target="params", amount=args.params,
                                               imgsz=args.imgsz), data=data_yaml, project=out, name="structured",
                       exist_ok=True)
    kept = structured.report.pruned.params
    # the same non-zero parameters: zero that many conv weights (the only ones sparsified)
    dense_params = structured.report.dense.params
    probe = sparsify_(load_model(args.model)[0], 0.5)  # how many weights are eligible
    amount = min(0.99, (dense_params - kept) / probe.eligible)
    unstructured = sparsify(args.model, amount=amount, project=out, name="unstructured", exist_ok=True)
    rows = []
    for label, ckpt, params in (("dense", Path(args.model), dense_params),
                                ("structured", structured.checkpoint, kept),
                                ("unstructured", unstructured.checkpoint, unstructured.report.nonzero)):
        coreml, = export_all(ckpt, "coreml:fp16", imgsz=args.imgsz, log_file=out / f"{label}-export.log")
        speed = measure_speedup(args.model, ckpt, "openvino:fp32", args.imgsz, runs=args.runs)
        rows.append({"model": label, "nonzero_params": params, "coreml_fp16_mb": coreml.size_mb,
                     "coreml_sparse_weights": coreml.parity.offline.sparse_weights if coreml.parity.offline else None, "coreml_ok": coreml.ok,
                     "openvino_fp32_ms": speed["pruned_ms"], "dense_ms_same_run": speed["dense_ms"],
                     "speedup": 1 / speed["ratio"], "map50_95_zero_shot": val_map(ckpt, data_yaml, args.imgsz, batch=16)})
        print(rows[-1], flush=True)
    result = {"settings": vars(args), "machine": machine_info(), "unstructured_amount": amount, "rows": rows}
    (out / "results.json").write_text(json.dumps(result, indent=2))
    lines = [f"{args.model} on {args.data}, {args.imgsz} px; OpenVINO FP32 on {result['machine']['cpu']} "
             f"({', '.join(result['machine']['cpu_flags'])}), 2 threads, medians of {args.runs} interleaved rounds; "
             "mAP50-95 right after pruning (no fine-tune)\n",
             "| model | non-zero params | CoreML FP16 MB | sparse weight ops | OpenVINO FP32 ms (dense in the same run) | "
             "speed-up | mAP50-95 |", "|---|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['model']} | {r['nonzero_params']:,} | {r['coreml_fp16_mb']:.2f} | {r['coreml_sparse_weights']} | "
              f"{r['openvino_fp32_ms']:.2f} ({r['dense_ms_same_run']:.2f}) | {r['speedup']:.2f}x | "
              f"{r['map50_95_zero_shot']:.3f} |" for r in rows]
    (out / "table.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
