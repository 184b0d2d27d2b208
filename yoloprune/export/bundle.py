"""Device bundles: the models plus a one-command benchmark for a target that is not this machine."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

PRECISIONS = {"jetson": ["fp16", "int8"], "iphone": ["fp16", "int8"]}
COMMANDS = {
    "jetson": "python3 run_benchmark.py        # on the Jetson (JetPack's trtexec builds the engines)",
    "iphone": "python3 run_benchmark.py        # on a Mac with coremltools; Xcode > Core ML report for the iPhone",
}


def make_bundle(models: dict[str, Path], target: str, imgsz: int, out_dir: Path) -> Path:
    """Export ``{"dense": pt, "pruned": pt}`` for ``target`` into ``out_dir/<target>_bundle``; return it."""
    from .exporter import export_all  # noqa: PLC0415

    bundle = out_dir / f"{target}_bundle"
    (bundle / "models").mkdir(parents=True, exist_ok=True)
    manifest = {"target": target, "imgsz": imgsz, "precisions": PRECISIONS[target], "models": []}
    for label, ckpt in models.items():
        item = {"model": label, "coreml": []}
        formats = "onnx" + (",coreml" if target == "iphone" else "")
        for r in export_all(ckpt, formats, imgsz=imgsz):
            if not r.ok:
                raise RuntimeError(f"bundle export {r.format}:{r.precision} of {label} failed: {r.error}")
            dst = bundle / "models" / f"{label}_{r.precision}{'.onnx' if r.format == 'onnx' else '.mlpackage'}"
            if dst.exists():
                shutil.rmtree(dst) if dst.is_dir() else dst.unlink()
            (shutil.copytree if Path(r.file).is_dir() else shutil.copy2)(r.file, dst)
            rel = str(dst.relative_to(bundle))
            if r.format == "onnx":
                item["onnx"] = rel
            else:
                item["coreml"].append({"precision": r.precision, "path": rel})
        manifest["models"].append(item)
    (bundle / "manifest.json").write_text(json.dumps(manifest, indent=2))
    shutil.copy2(Path(__file__).with_name("device_bench.py"), bundle / "run_benchmark.py")
    (bundle / "README.txt").write_text(
        f"yoloprune device bundle for {target} (dense vs pruned, imgsz {imgsz}).\n\n"
        f"Run:\n  {COMMANDS[target]}\nCheck the bundle on any machine first:\n  python3 run_benchmark.py --dry-run\n"
        "Then merge the results into the local report:\n"
        "  yolo-prune benchmark merge=results.json project=<project> name=<name> exist_ok=True\n"
    )
    return bundle
