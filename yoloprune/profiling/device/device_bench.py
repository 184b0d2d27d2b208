#!/usr/bin/env python3
"""Standalone device benchmark shipped inside a yoloprune device bundle or profile kit (needs no yoloprune install).

Benchmark (a bundle's ``manifest.json``): on a Jetson, builds TensorRT engines from the bundled ONNX with
``trtexec`` (FP16 / INT8) and reads its latency percentiles; on a Mac, times the bundled CoreML packages
with ``coremltools`` predict, labelled ``mac`` with the chip and compute units (for the iPhone itself, use
Xcode's Core ML performance report on the phone). ``--dry-run`` times the bundled ONNX models with ONNX
Runtime on any machine, to check the bundle before shipping it. Writes ``results.json`` with the same row
schema as ``yolo-prune benchmark``; merge it back with ``yolo-prune benchmark merge=results.json ...``.

Profile (``--profile``, a kit's ``kit.json``): times every variant of the kit, each set (one group's widths,
the staircase, one random variant) interleaved with the dense model, and writes ``timings.json``; bring it
back with ``yolo-prune profile merge=timings.json``. A per-layer kit's one-layer networks are timed in sets of
their own (interleaved with each other, not with the dense model, and each median resting on at least
LAYER_TIMED_MS of timing).
"""

import argparse
import json
import math
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# copies of yoloprune's own (this script runs without it; tests/profiling/test_device_script.py pins them equal)
TIMED_MS = 300  # each profile median rests on at least this much timing of one model (yoloprune.profiling.timing)
PROBE_RUNS = 5  # timed runs of the dense model that tell how many rounds make TIMED_MS
COMPUTE_UNITS = ("ALL", "CPU_AND_NE", "CPU_AND_GPU", "CPU_ONLY")  # CoreML's choice (first: its default)
TIMINGS_KIND = "yoloprune-profile-timings"  # what timings.json is to yolo-prune profile merge=
LAYER_TIMED_MS = 40  # each one-layer network's median rests on at least this much timing (profiling.layers)
MAX_LAYER_RUNS = 400  # however quick the network: at most this many rounds


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


def trtexec_latency(out):
    """``{percent: ms}`` of trtexec's end-to-end ``Latency:`` summary line (not H2D / GPU compute / D2H)."""
    line = re.search(r"(?:^|\]\s)Latency: (min = [^\n]*)", out, re.MULTILINE)
    return dict(re.findall(r"percentile\((\d+)%\) = ([\d.eE+-]+) ms", line.group(1))) if line else {}


def jetson(manifest, runs):
    trtexec = shutil.which("trtexec") or "/usr/src/tensorrt/bin/trtexec"
    rows = []
    for item in manifest["models"]:
        for precision in manifest["precisions"]:
            onnx = item["onnx"][0]["path"]
            engine = HERE / f"{Path(onnx).stem}_{precision}.engine"
            cmd = [trtexec, f"--onnx={HERE / onnx}", f"--saveEngine={engine}", f"--iterations={runs}",
                   "--duration=0", "--avgRuns=1", "--percentile=50,90"]
            if precision == "fp16":
                cmd.append("--fp16")
            if precision == "int8":
                cmd += ["--int8", "--fp16"]  # without a calibration cache trtexec uses dummy scales: latency only
            out = subprocess.run(cmd, capture_output=True, text=True).stdout
            found = trtexec_latency(out)
            if "50" not in found:
                rows.append(_row("engine", precision, "jetson", item["model"], None, None, None, note="trtexec failed"))
                continue
            rows.append(_row("engine", precision, "jetson", item["model"], float(found["50"]), float(found.get("90", found["50"])),
                             _size(engine), runtime=precision))
    return rows


def _mac_chip():
    try:
        return subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return platform.processor()


def _coreml_runner(path, imgsz, compute_units, shape=None):
    """A zero-argument callable running one CoreML prediction (macOS only): an image, or a one-layer network's
    float32 tensor of ``shape``."""
    import coremltools as ct
    import numpy as np
    from PIL import Image

    model = ct.models.MLModel(str(path), compute_units=getattr(ct.ComputeUnit, compute_units))
    name = model.get_spec().description.input[0].name
    if shape is not None:
        x = np.random.default_rng(0).random(shape, dtype=np.float32)
        return lambda: model.predict({name: x})
    img = Image.fromarray((np.random.default_rng(0).random((imgsz, imgsz, 3)) * 255).astype("uint8"))
    return lambda: model.predict({name: img})


def _onnx_runner(path, imgsz, shape=None):
    import numpy as np
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    x = np.random.default_rng(0).random(shape or [1, 3, imgsz, imgsz], dtype=np.float32)
    return lambda: sess.run(None, {name: x})


def mac(manifest, runs, compute_units="ALL"):
    rows = []
    for item in manifest["models"]:
        for pkg in item.get("coreml", []):
            run = _coreml_runner(HERE / pkg["path"], manifest["imgsz"], compute_units)
            for _ in range(3):
                run()
            times = []
            for _ in range(runs):
                t = time.perf_counter()
                run()
                times.append((time.perf_counter() - t) * 1000)
            med, p90 = _percentiles(times)
            rows.append(_row("coreml", pkg["precision"], "mac", item["model"], med, p90, _size(HERE / pkg["path"]),
                             note=f"measured on a Mac: {_mac_chip()}, compute units {compute_units} (not the iPhone: "
                                  "use Xcode's Core ML performance report on the phone)"))
    return rows


# ----------------------------------------------------------------------------- profile kits
def _interleaved(fns, runs, warmup, seed=0):
    """Median ms of each callable, timed round-robin in a shuffled order each round (yoloprune's
    ``interleaved_medians``)."""
    for fn in fns:
        for _ in range(warmup):
            fn()
    times, order, rng = [[] for _ in fns], list(range(len(fns))), random.Random(seed)
    for _ in range(runs):
        rng.shuffle(order)
        for i in order:
            t = time.perf_counter()
            fns[i]()
            times[i].append((time.perf_counter() - t) * 1000)
    return [statistics.median(t) for t in times]


def _enough_runs(fn, runs, warmup):
    """``runs``, or more where one call of ``fn`` is quick: each median rests on at least TIMED_MS of timing."""
    return max(runs, math.ceil(TIMED_MS / _interleaved([fn], PROBE_RUNS, warmup)[0]))


def _trtexec_median(engine, runs):
    trtexec = shutil.which("trtexec") or "/usr/src/tensorrt/bin/trtexec"
    out = subprocess.run([trtexec, f"--loadEngine={engine}", f"--iterations={runs}", "--duration=0", "--avgRuns=1",
                          "--percentile=50", "--warmUp=200", "--useSpinWait"], capture_output=True, text=True).stdout
    found = trtexec_latency(out)
    if "50" not in found:
        sys.exit(f"trtexec could not time {engine}: run it by hand to see why")
    return float(found["50"])


def _build_engines(kit, precision):
    trtexec = shutil.which("trtexec") or "/usr/src/tensorrt/bin/trtexec"
    engines = {}
    files = {**kit["variants"], **kit.get("networks", {})}
    for vid, v in files.items():  # one folder per kit: a new kit copied here never reuses old engines
        engine = HERE / "engines" / kit["fingerprint"] / f"{kit['imgsz']}_{vid}_{precision}.engine"
        engine.parent.mkdir(parents=True, exist_ok=True)
        if not engine.exists():
            flags = ["--fp16"] if precision == "fp16" else ["--int8", "--fp16"]  # int8: dummy scales, latency only
            done = subprocess.run([trtexec, f"--onnx={HERE / v['file']}", f"--saveEngine={engine}", "--skipInference",
                                   *flags], capture_output=True, text=True)
            if done.returncode or not engine.exists():
                sys.exit(f"trtexec could not build {v['file']} ({precision}): {done.stdout[-500:]}")
        engines[vid] = engine
    return engines


def _each_set(ids, measure, partial):
    """Medians of every set, resumable: each finished set is saved to ``partial`` (a rerun skips it)."""
    done = json.loads(partial.read_text()) if partial.exists() else []
    if done:
        print(f"resuming after {len(done)} of {len(ids)} sets ({partial.name})", flush=True)
    for n, group in enumerate(ids):
        if n < len(done):
            continue
        print(f"set {n + 1}/{len(ids)}", flush=True)
        done.append(measure(n, group))
        tmp = partial.with_name(partial.name + ".tmp")
        tmp.write_text(json.dumps(done))
        tmp.replace(partial)
    return done


def _layer_runs(fns, runs, warmup, seed):
    """Rounds for a set of one-layer networks: ``runs``, or more where they are quick (yoloprune's time_layers)."""
    quickest = min(_interleaved(fns, 3, warmup, seed))
    return min(MAX_LAYER_RUNS, max(runs, math.ceil(LAYER_TIMED_MS / max(quickest, 1e-3))))


def profile(kit, runs, warmup, rounds, dry_run, compute_units):
    """Time every set of the kit on this device; the timings.json content."""
    imgsz, sets = kit["imgsz"], kit["sets"]
    networks = kit.get("networks", {})  # a per-layer kit's one-layer networks (their sets hold no dense model)
    ids = [s["variants"] if s["role"] == "layers" else ["dense", *s["variants"]] for s in sets]
    mode = "dry-run" if dry_run else f"{kit['runtime']}-{compute_units if kit['runtime'] == 'coreml' else kit['precision']}"
    partial = HERE / f"timings.partial-{kit['fingerprint']}-{mode}.json"
    if dry_run or kit["runtime"] == "coreml":
        if dry_run and kit["ships"] != "onnx":
            sys.exit("--dry-run times ONNX kits (the Jetson's); a CoreML kit needs a Mac")
        files = {vid: HERE / v["file"] for vid, v in {**kit["variants"], **networks}.items()}  # "dense" among them

        def runner(vid):
            shape = networks[vid]["input"] if vid in networks else None
            return _onnx_runner(files[vid], imgsz, shape) if dry_run else \
                _coreml_runner(files[vid], imgsz, compute_units, shape)

        dense = runner("dense")
        runs = _enough_runs(dense, runs, warmup)  # small models: more rounds

        def measure(n, group):
            if group[0] != "dense":  # one-layer networks
                fns = [runner(v) for v in group]
                return _interleaved(fns, _layer_runs(fns, runs, warmup, n), 0, seed=n)
            return _interleaved([dense, *(runner(v) for v in group[1:])], runs, warmup, seed=n)

        medians = _each_set(ids, measure, partial)
        if dry_run:  # keyed by what ran, so it can never pass for the device's table
            hardware, machine = "dry-run", {"cpu": platform.processor() or platform.machine(),
                                            "runtime": "onnxruntime CPU", "platform": platform.platform()}
            extra = {"runtime": "onnx", "precision": "fp32"}
        else:
            hardware, machine = "mac", {"chip": _mac_chip(), "compute_units": compute_units,
                                        "platform": platform.platform(), "runtime": "coremltools predict"}
            extra = {"compute_units": compute_units}  # part of the table's key: one table per choice
    else:  # TensorRT: one trtexec process per timing, so sets are interleaved over rounds in a shuffled order
        engines = _build_engines(kit, kit["precision"])  # "dense" among them

        def measure(n, group):
            per_round, rng = {v: [] for v in group}, random.Random(n)
            for _ in range(rounds):
                order = list(group)
                rng.shuffle(order)
                for v in order:  # a one-layer engine is quick: its median rests on more iterations
                    per_round[v].append(_trtexec_median(engines[v], MAX_LAYER_RUNS if v in networks else runs))
            return [statistics.median(per_round[v]) for v in group]

        medians = _each_set(ids, measure, partial)
        hardware, machine = "jetson", {"platform": platform.platform(), "runtime": f"TensorRT trtexec ({kit['precision']})",
                                       "model": Path("/proc/device-tree/model").read_text().strip("\x00\n")
                                       if Path("/proc/device-tree/model").exists() else platform.machine()}
        extra = {}
    return {"kind": TIMINGS_KIND, "hardware": hardware, "fingerprint": kit["fingerprint"],
            "machine": {**machine, "runs": runs}, **extra, "partial": partial.name,
            "sets": [{"variants": g, "ms": m} for g, m in zip(ids, medians)]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dry-run", action="store_true", help="time the bundled ONNX models with ONNX Runtime here")
    ap.add_argument("--runs", type=int, default=None, help="timed runs per model (default 50; --profile: 30)")
    ap.add_argument("--out", default=None, help="default: results.json (timings.json with --profile) here")
    ap.add_argument("--profile", action="store_true", help="time a profile kit's variants (kit.json)")
    ap.add_argument("--compute-units", default=COMPUTE_UNITS[0], choices=COMPUTE_UNITS,
                    help="CoreML compute units on a Mac")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3, help="TensorRT profile: shuffled rounds of trtexec runs per set")
    args = ap.parse_args()
    if args.profile:
        kit = json.loads((HERE / "kit.json").read_text())
        timings = profile(kit, args.runs or 30, args.warmup, args.rounds, args.dry_run, args.compute_units)
        partial = HERE / timings.pop("partial")
        out = Path(args.out or HERE / "timings.json")
        out.write_text(json.dumps(timings, indent=2))
        partial.unlink(missing_ok=True)  # complete: a rerun starts afresh
        print(f"wrote {out}: bring it back with  yolo-prune profile merge={out.name}  (kit.json beside it)")
        return
    manifest = json.loads((HERE / "manifest.json").read_text())
    runs = args.runs or 50
    if args.dry_run:
        rows = dry_run(manifest, runs)
    elif manifest["target"] == "jetson":
        rows = jetson(manifest, runs)
    else:
        rows = mac(manifest, runs, args.compute_units)
    result = {"target": manifest["target"], "machine": platform.platform(), "benchmarks": rows}
    Path(args.out or HERE / "results.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
