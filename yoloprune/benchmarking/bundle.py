"""Device bundles: the models plus a one-command benchmark for a target that is not this machine."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ..errors import YoloPruneError
from ..io import write_text_atomic
from ..export.exporter import export_all
from ..export.formats import FORMATS, Hardware
from ..profiling.timing import DEVICE_SCRIPT


def make_bundle(models: dict[str, Path], device: Hardware, imgsz: int, out_dir: Path) -> Path:
    """Export ``{"dense": pt, "pruned": pt}`` for ``device`` into ``out_dir/<device>_bundle``; return it.

    The manifest lists, per model, each shipped format's files as ``{"precision", "path"}`` entries.
    """
    bundle = out_dir / f"{device.name}_bundle"
    (bundle / "models").mkdir(parents=True, exist_ok=True)
    manifest = {"target": device.name, "imgsz": imgsz, "precisions": list(device.precisions), "models": []}
    for label, ckpt in models.items():
        item = {"model": label, **{name: [] for name in device.bundle_formats}}
        for r in export_all(ckpt, ",".join(device.bundle_formats), imgsz=imgsz):
            if not r.ok:
                raise YoloPruneError(f"bundle export {r.format}:{r.precision} of {label} failed: {r.error}")
            dst = bundle / "models" / f"{label}_{r.precision}{FORMATS[r.format].suffix}"
            if dst.exists():
                shutil.rmtree(dst) if dst.is_dir() else dst.unlink()
            (shutil.copytree if Path(r.file).is_dir() else shutil.copy2)(r.file, dst)
            item[r.format].append({"precision": r.precision, "path": str(dst.relative_to(bundle))})
        manifest["models"].append(item)
    write_text_atomic(json.dumps(manifest, indent=2), bundle / "manifest.json")
    shutil.copy2(DEVICE_SCRIPT, bundle / "run_benchmark.py")
    write_text_atomic(
        f"yoloprune device bundle for {device.name} (dense vs pruned, imgsz {imgsz}).\n\n"
        f"Run:\n  {device.run_command}\nCheck the bundle on any machine first:\n  python3 run_benchmark.py --dry-run\n"
        "Rows timed on a Mac are labelled mac (chip and compute units in the note), never iphone: the phone's own\n"
        "numbers come from Xcode's Core ML performance report on the phone.\n"
        "Then merge the results into the local report:\n"
        "  yolo-prune benchmark merge=results.json project=<project> name=<name> exist_ok=True\n",
        bundle / "README.txt",
    )
    return bundle
