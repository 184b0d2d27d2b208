"""Issue 4 goals on this CPU: dense vs 2x-MACs-pruned, OpenVINO FP32 / INT8 (plus ONNX Runtime, PyTorch).

    .venv/bin/python benchmarks/intel_cpu.py [--models yolov8n.yaml,yolo11n.yaml,yolo26n.yaml] [--imgsz 640]

Per model: build dense from the YAML (nc=6, the shapes classes), prune to half the MACs (l2, global),
benchmark both side by side (batch 1, 2 threads, 10 warm-up + 50 timed runs; INT8 calibrated on
shapes) and report speed efficiency = FP32 speed-up / MACs reduction and pruned-INT8 vs dense-FP32.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="yolov8n.yaml,yolo11n.yaml,yolo26n.yaml")
    ap.add_argument("--imgsz", type=int, default=640)
    ap.add_argument("--formats", default="onnx,openvino:fp32,openvino:int8")
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--out", default="benchmarks/results/intel_cpu")
    args = ap.parse_args()

    from yoloprune import offline

    offline.configure()
    from yoloprune.workflows.oneshot import prune
    from yoloprune.integrations.ultralytics.model_io import load_model
    from yoloprune.io import write_torch_atomic as atomic_save
    from yoloprune.data import resolve_dataset
    from yoloprune.benchmarking.benchmark import benchmark

    data = resolve_dataset("shapes")
    out = Path(args.out).resolve()
    summary = []
    for cfg in args.models.split(","):
        work = out / Path(cfg).stem
        dense, _ = load_model(cfg, nc=6)
        dense_pt = atomic_save({"model": dense, "train_args": {"model": cfg, "task": "detect"}, "epoch": -1},
                               work / "dense.pt")
        result = prune(dense_pt, project=work, name="pruned", exist_ok=True, target="macs", amount=0.5,
                       imgsz=args.imgsz)
        speed = benchmark(result.checkpoint, dense=dense_pt, data=str(data), project=work, name="bench",
                          exist_ok=True, formats=args.formats, imgsz=args.imgsz, runs=args.runs).report.summary
        macs_cut = result.report.dense.macs / result.report.pruned.macs
        row = {"model": cfg, "macs_dense_g": result.report.dense.macs, "macs_pruned_g": result.report.pruned.macs,
               "macs_reduction": macs_cut, **speed}
        for key in [k for k in speed if k.endswith(":fp32 speedup")]:
            row[key.replace("speedup", "speed_efficiency")] = speed[key] / macs_cut
        summary.append(row)
        print(json.dumps(row), flush=True)
        print((work / "bench" / "benchmark.md").read_text(), flush=True)
    (out / "summary.json").write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
