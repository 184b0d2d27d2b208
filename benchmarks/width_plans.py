"""Issue-15 proof: the width plans ``yolo-prune prune`` chooses, as checksums, for any checkout of the code.

    .venv/bin/python benchmarks/width_plans.py [--repo /path/to/a/checkout] [--out /tmp/plans]

Builds yolov8n / yolo11n / yolo26n from their YAMLs with ``torch.manual_seed(0)`` once (the same
checkpoints for every checkout: a YAML alone is randomly initialised), prunes each one-shot to half
the MACs at 320 px with ``l2`` (no data) and ``taylor_raw`` (on ``shapes``) through the CLI of the
checkout given, and prints the MD5 of each ``prune.json``'s ``layers`` list. Run it on the commit
before a refactor and after it: equal checksums are byte-identical width plans.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
MODELS = ("yolov8n", "yolo11n", "yolo26n")


def seeded_models(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {m: folder / f"{m}-seed0.pt" for m in MODELS}
    if not all(p.exists() for p in paths.values()):
        code = ("import torch\nfrom ultralytics import YOLO\n"
                + "".join(f"torch.manual_seed(0); YOLO('{m}.yaml').save(r'{p}')\n" for m, p in paths.items()))
        subprocess.run([sys.executable, "-c", code], check=True, env=_env(HERE), capture_output=True)
    return paths


def _env(repo: Path) -> dict:
    return {**os.environ, "PYTHONPATH": str(repo), "YOLOPRUNE_OFFLINE": "1", "OMP_NUM_THREADS": "1"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repo", default=str(HERE), help="checkout whose yoloprune prunes (default: this one)")
    ap.add_argument("--out", default="/tmp/yoloprune-width-plans")
    args = ap.parse_args()
    repo, out = Path(args.repo).resolve(), Path(args.out).resolve()
    cli = "yoloprune" if (repo / "yoloprune" / "__main__.py").exists() else "yoloprune.cli"  # before issue 15: cli
    models = seeded_models(out / "models")
    rows = {}
    for name, pt in models.items():
        for criterion, data in (("l2", []), ("taylor_raw", ["data=shapes"])):
            run = f"{name}-{criterion}"
            cmd = [sys.executable, "-m", cli, "prune", f"model={pt}", f"criterion={criterion}", *data, "imgsz=320",
                   f"project={out / repo.name}", f"name={run}", "exist_ok=True"]
            subprocess.run(cmd, check=True, env=_env(repo), capture_output=True, cwd=out)  # not a checkout's cwd
            layers = json.loads((out / repo.name / run / "prune.json").read_text())["layers"]
            rows[run] = hashlib.md5(json.dumps(layers).encode()).hexdigest()
    for run, digest in rows.items():
        print(f"{run:<22} {digest}")


if __name__ == "__main__":
    main()
