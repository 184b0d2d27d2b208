"""Device profile kits, whole variants against per-layer: what a kit costs to write, ship and time, and how well its
merged table predicts.

    .venv/bin/python benchmarks/profile_kits.py [--models yolov8n.yaml] [--imgsz 640] [--mac] \
        [--out benchmarks/results/profile_kits]

For each model (built from its YAML with ``torch.manual_seed(0)``: latency does not depend on the weights' values)
and image size, through the CLI as a user runs it:

1. ``yolo-prune profile model=... hardware=jetson format=engine:fp16 method=variants|layers``: the wall time to
   write the kit, its size on disk and what it holds (whole variants, one-layer networks);
2. the kit's own ``run_benchmark.py --profile --dry-run`` (ONNX Runtime on this CPU, the only runtime here; the
   Jetson runs TensorRT): the wall time to time it;
3. ``yolo-prune profile merge=<kit>/timings.json`` into a fresh cache: the merged table's error on its held-out
   random variants (the same draws in both kits: the same seed), and its latency model.

``--mac`` also writes the Mac's per-layer kit (``hardware=mac format=coreml:fp16 method=layers``, CoreML
packages; timing them needs a Mac): its write time and size (the Mac's whole-variant kit holds as many variants as
the Jetson's, each a CoreML export). Writes ``results.json`` and ``table.md``. Resumable: a kit already written, timed or
merged (its files complete) is read back, not redone; its seconds come from the first run's record.
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from latency_table_speed import offline_env  # noqa: E402
from latency_target import seeded  # noqa: E402  (the models every latency benchmark builds)

CLI = [sys.executable, "-m", "yoloprune"]


def _size_mb(folder: Path) -> float:
    return round(sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2**20, 1)


def _timed(step: Path, cmd: list[str], env: dict, cwd: Path | None = None) -> float:
    """``cmd``'s wall seconds, recorded in ``step`` (a step already recorded is not run again)."""
    if step.exists():
        return json.loads(step.read_text())["seconds"]
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"{' '.join(map(str, cmd))} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    step.write_text(json.dumps({"seconds": seconds, "command": [str(c) for c in cmd], "stdout": done.stdout[-2000:]}))
    return seconds


def measure(name: str, pt: Path, imgsz: int, hardware: str, fmt: str, method: str, out: Path, time_it: bool) -> dict:
    tag = f"{name}-{imgsz}-{hardware}-{method}"
    runs = out / "runs" / tag
    runs.mkdir(parents=True, exist_ok=True)
    env = offline_env(runs / "home")
    write_s = _timed(runs / "write.json", [*CLI, "profile", f"model={pt}", f"hardware={hardware}", f"format={fmt}",
                                           f"imgsz={imgsz}", f"method={method}", f"project={runs}", "name=kit",
                                           "exist_ok=true"], env)
    kit = runs / "kit" / f"{hardware}_profile_kit"
    spec = json.loads((kit / "kit.json").read_text())
    row = {"model": name, "imgsz": imgsz, "hardware": hardware, "format": fmt, "method": method,
           "write_seconds": round(write_s, 1), "size_mb": _size_mb(kit),
           "whole_variants": len(spec["variants"]), "layer_networks": len(spec.get("networks", {})),
           "sets": len(spec["sets"])}
    if not time_it:
        return row
    row["dry_run_seconds"] = round(_timed(runs / "dry_run.json", [sys.executable, "run_benchmark.py", "--profile",
                                                                  "--dry-run"], env, cwd=kit), 1)
    _timed(runs / "merge.json", [*CLI, "profile", f"merge={kit / 'timings.json'}"], env)
    table = json.loads(next((runs / "home" / "latency").glob("dry-run-*.json")).read_text())
    v = table.get("validation") or {}
    row.update(dense_ms=table["dense_ms"], mape=v.get("mape"), held_out=len(v.get("variants", [])),
               fit=v.get("fit_variants"), latency_model=table.get("model"),
               mape_isolated=v.get("mape_isolated_calibrated"), mape_joint=v.get("mape_joint"))
    return row


def render(results: dict) -> str:
    head = ("| model | imgsz | kit | method | whole variants | one-layer networks | write s | size MB | timed here s "
            "(ONNX Runtime dry run) | MAPE held-out | latency model |")
    lines = [head, "|" + "---|" * head.count(" | ") + "---|"]
    for r in results["rows"]:
        mape = f"{r['mape']:.1%} ({r['held_out']})" if r.get("mape") is not None else ""
        lines.append(f"| {r['model']} | {r['imgsz']} | {r['hardware']} {r['format']} | {r['method']} | "
                     f"{r['whole_variants']} | {r['layer_networks']} | {r['write_seconds']:.0f} | {r['size_mb']:.0f} | "
                     f"{r.get('dry_run_seconds', '')} | {mape} | {r.get('latency_model') or ''} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="yolov8n.yaml")
    ap.add_argument("--imgsz", default="640")
    ap.add_argument("--mac", action="store_true", help="also write the Mac's per-layer CoreML kit (time and size)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "profile_kits"))
    args = ap.parse_args()
    out = Path(args.out).resolve()
    from yoloprune.profiling.timing import machine_info

    results = {"date": datetime.date.today().isoformat(), "machine": machine_info(), "command": sys.argv,
               "settings": {"models": args.models, "imgsz": [int(s) for s in args.imgsz.split(",")], "mac": args.mac},
               "rows": []}
    kits = [("jetson", "engine:fp16", True, ("layers", "variants"))]
    kits += [("mac", "coreml:fp16", False, ("layers",))] if args.mac else []
    for imgsz in (int(s) for s in args.imgsz.split(",")):
        for model in args.models.split(","):
            pt = seeded(model, out / "models")
            for hardware, fmt, time_it, methods in kits:
                for method in methods:
                    results["rows"].append(measure(Path(model).stem, pt, imgsz, hardware, fmt, method, out, time_it))
                    print(render(results), flush=True)
    (out / "results.json").write_text(json.dumps(results, indent=1))
    (out / "table.md").write_text(render(results))
    print(render(results))


if __name__ == "__main__":
    main()
