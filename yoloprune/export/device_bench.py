#!/usr/bin/env python3
"""Standalone device benchmark shipped inside a yoloprune device bundle (needs no yoloprune install).

On a Jetson: builds TensorRT engines from the bundled ONNX with ``trtexec`` (FP16 / INT8) and reads
its latency percentiles. On a Mac: times the bundled CoreML packages with ``coremltools`` predict
(for the iPhone itself, open them in Xcode's Core ML performance report). ``--dry-run`` times the
bundled ONNX models with ONNX Runtime on any machine, to check the bundle before shipping it.
Writes ``results.json`` with the same row schema as ``yolo-prune benchmark``; merge it back with
``yolo-prune benchmark merge=results.json project=... name=...``.
"""

import argparse
import json
import platform
import re
import shutil
import subprocess
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _row(fmt, precision, target, model, median, p90, size_mb, note=None, runtime=None):
    return {"format": fmt, "precision": precision, "target": target, "model": model, "latency_ms_median": median,
            "latency_ms_p90": p90, "throughput_fps": 1000.0 / median if median else None, "size_mb": size_mb,
            "map50_95": None, "runtime_precision": runtime, "threads": None, "error": note}


def _size(path):
    p = Path(path)
    files = [p] if p.is_file() else [f for f in p.rglob("*") if f.is_file()]
    return round(sum(f.stat().st_size for f in files) / 2**20, 3)


def _percentiles(times):
    times = sorted(times)
    return times[len(times) // 2], times[min(len(times) - 1, int(0.9 * len(times)))]


def dry_run(manifest, runs):
    import numpy as np
    import onnxruntime as ort

    rows = []
    for item in manifest["models"]:
        onnx = HERE / item["onnx"][0]["path"]
        sess = ort.InferenceSession(str(onnx), providers=["CPUExecutionProvider"])
        inp = sess.get_inputs()[0]
        x = np.random.default_rng(0).random([1, 3, manifest["imgsz"], manifest["imgsz"]], dtype=np.float32)
        for _ in range(3):
            sess.run(None, {inp.name: x})
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            sess.run(None, {inp.name: x})
            times.append((time.perf_counter() - t) * 1000)
        med, p90 = _percentiles(times)
        rows.append(_row("onnx", "fp32", manifest["target"], item["model"], med, p90, _size(onnx),
                         note=f"dry run with ONNX Runtime on {platform.machine()}", runtime="fp32"))
    return rows


def jetson(manifest, runs):
    trtexec = shutil.which("trtexec") or "/usr/src/tensorrt/bin/trtexec"
    rows = []
    for item in manifest["models"]:
        for precision in manifest["precisions"]:
            onnx = item["onnx"][0]["path"]
            engine = HERE / f"{Path(onnx).stem}_{precision}.engine"
            cmd = [trtexec, f"--onnx={HERE / onnx}", f"--saveEngine={engine}", f"--iterations={runs}",
                   "--avgRuns=1", "--percentile=50,90"]
            if precision == "fp16":
                cmd.append("--fp16")
            if precision == "int8":
                cmd += ["--int8", "--fp16"]  # without a calibration cache trtexec uses dummy scales: latency only
            out = subprocess.run(cmd, capture_output=True, text=True).stdout
            found = dict(re.findall(r"percentile\((\d+)%\) = ([\d.]+) ms", out))
            if "50" not in found:
                rows.append(_row("engine", precision, "jetson", item["model"], None, None, None, note="trtexec failed"))
                continue
            rows.append(_row("engine", precision, "jetson", item["model"], float(found["50"]), float(found.get("90", found["50"])),
                             _size(engine), runtime=precision))
    return rows


def mac(manifest, runs):
    import coremltools as ct
    import numpy as np
    from PIL import Image

    rows = []
    for item in manifest["models"]:
        for pkg in item.get("coreml", []):
            model = ct.models.MLModel(str(HERE / pkg["path"]))
            name = model.get_spec().description.input[0].name
            img = Image.fromarray((np.random.default_rng(0).random((manifest["imgsz"], manifest["imgsz"], 3)) * 255).astype("uint8"))
            for _ in range(3):
                model.predict({name: img})
            times = []
            for _ in range(runs):
                t = time.perf_counter()
                model.predict({name: img})
                times.append((time.perf_counter() - t) * 1000)
            med, p90 = _percentiles(times)
            rows.append(_row("coreml", pkg["precision"], "iphone", item["model"], med, p90, _size(HERE / pkg["path"]),
                             note=f"Mac {platform.machine()} proxy; use Xcode's Core ML performance report on the iPhone"))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dry-run", action="store_true", help="time the bundled ONNX models with ONNX Runtime here")
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--out", default=str(HERE / "results.json"))
    args = ap.parse_args()
    manifest = json.loads((HERE / "manifest.json").read_text())
    if args.dry_run:
        rows = dry_run(manifest, args.runs)
    elif manifest["target"] == "jetson":
        rows = jetson(manifest, args.runs)
    else:
        rows = mac(manifest, args.runs)
    result = {"target": manifest["target"], "machine": platform.platform(), "benchmarks": rows}
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
