"""Baseline: a dense YOLOv8n trained from scratch on the offline ``shapes`` dataset, on the CPU.

Generates ``shapes`` (the size in ``datasets.yaml``), trains ``yolov8n.yaml`` with the ``shapes``
recipe from ``datasets.yaml``, then prints the per-epoch validation curve read from the run's
``results.csv`` together with the wall-clock time at the end of each epoch, and writes it as JSON.

Target the project must meet: mAP50-95 >= 0.60 on the shapes val split within 5 minutes of training.

    PYTHONPATH=. .venv/bin/python benchmarks/shapes_baseline.py [--set epochs=20 --set lr0=0.003]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

TARGET_MAP, TARGET_SECONDS = 0.60, 300.0


def _parse_value(text: str):
    """``key=value`` values from the command line, read as YAML scalars (numbers, booleans, strings)."""
    import yaml  # noqa: PLC0415

    return yaml.safe_load(text)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="shapes", help="dataset name from datasets.yaml (default: shapes)")
    p.add_argument("--recipe", default=None,
                   help="registered dataset whose recipe to use (default: --data, or shapes for a YAML path)")
    p.add_argument("--root", default=None, help="dataset folder (default: $YOLOPRUNE_HOME/datasets/<name>)")
    p.add_argument("--project", default="runs/benchmarks", help="Ultralytics project folder for the run")
    p.add_argument("--name", default="shapes_baseline", help="run name inside --project")
    p.add_argument("--out", default=None, help="JSON output (default: <project>/<name>.json)")
    p.add_argument("--threads", type=int, default=os.cpu_count(),
                   help="torch CPU threads (Ultralytics would use cpu_count-1, i.e. 1 on 2 cores)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override one recipe entry (an Ultralytics train() argument), repeatable")
    return p.parse_args(argv)


def read_curve(results_csv: Path, epoch_ends: list[float]) -> list[dict]:
    """Per-epoch rows of ``results.csv`` (epoch, mAP50, mAP50-95, ...) plus wall-clock ``elapsed_s``."""
    with open(results_csv, newline="") as f:
        rows = [{k.strip(): v.strip() for k, v in row.items()} for row in csv.DictReader(f)]
    curve = []
    for i, row in enumerate(rows):
        curve.append({
            "epoch": int(float(row["epoch"])),
            "elapsed_s": round(epoch_ends[i], 1) if i < len(epoch_ends) else None,
            "precision": float(row["metrics/precision(B)"]),
            "recall": float(row["metrics/recall(B)"]),
            "mAP50": float(row["metrics/mAP50(B)"]),
            "mAP50-95": float(row["metrics/mAP50-95(B)"]),
        })
    return curve


def main(argv=None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install
    os.environ.setdefault("YOLOPRUNE_HOME", str(Path(tempfile.gettempdir()) / "yoloprune"))
    from yoloprune import offline  # noqa: PLC0415 (configure before Ultralytics is imported)

    offline.configure()
    from yoloprune.data import dataset_recipe, load_registry, resolve_dataset  # noqa: PLC0415

    recipe = dataset_recipe(args.recipe or (args.data if args.data in load_registry() else "shapes"))
    recipe.update({k: _parse_value(v) for k, v in (s.split("=", 1) for s in args.set)})
    model_cfg = recipe.pop("model", "yolov8n.yaml")

    t0 = time.perf_counter()
    data_yaml = resolve_dataset(args.data, args.root)
    gen_s = time.perf_counter() - t0
    print(f"dataset: {data_yaml} ({gen_s:.1f} s to generate or check)")

    import torch  # noqa: PLC0415
    from ultralytics import YOLO  # noqa: PLC0415

    model = YOLO(model_cfg)
    epoch_ends: list[float] = []
    start = {}

    def on_train_start(_trainer):
        torch.set_num_threads(args.threads)  # after Ultralytics' select_device() set cpu_count-1
        start["t"] = time.perf_counter()

    def on_fit_epoch_end(_trainer):  # after the epoch's validation
        epoch_ends.append(time.perf_counter() - start["t"])

    model.add_callback("on_train_start", on_train_start)
    model.add_callback("on_fit_epoch_end", on_fit_epoch_end)
    train_args = {"device": "cpu", "plots": False, "amp": False, "val": True, "exist_ok": True,
                  "project": str(Path(args.project).resolve()), "name": args.name, "verbose": False, **recipe}
    print("recipe:", json.dumps({"model": model_cfg, **recipe}))
    t_call = time.perf_counter()
    model.train(data=str(data_yaml), **train_args)
    call_s = time.perf_counter() - t_call
    save_dir = Path(model.trainer.save_dir)
    curve = read_curve(save_dir / "results.csv", epoch_ends)
    # on_fit_epoch_end also fires after the final best.pt validation: the last epoch's entry is the end
    train_s = epoch_ends[len(curve) - 1] if len(epoch_ends) >= len(curve) > 0 else float("nan")
    print(f"\n{'epoch':>5} {'elapsed_s':>9} {'mAP50':>7} {'mAP50-95':>8}")
    for row in curve:
        print(f"{row['epoch']:>5} {row['elapsed_s']:>9.1f} {row['mAP50']:>7.3f} {row['mAP50-95']:>8.3f}")
    in_time = [r for r in curve if r["elapsed_s"] is not None and r["elapsed_s"] <= TARGET_SECONDS]
    best = max((r["mAP50-95"] for r in in_time), default=0.0)
    met = best >= TARGET_MAP
    print(f"\ntraining (first epoch start -> last epoch's validation): {train_s:.1f} s; train() call incl. "
          f"setup and final best.pt validation: {call_s:.1f} s")
    print(f"best mAP50-95 within {TARGET_SECONDS:.0f} s: {best:.3f} -> target {TARGET_MAP} "
          f"{'MET' if met else 'NOT met'}")

    report = {
        "benchmark": "shapes_baseline", "data": args.data, "data_yaml": str(data_yaml),
        "recipe": {"model": model_cfg, **recipe}, "target": {"mAP50-95": TARGET_MAP, "seconds": TARGET_SECONDS},
        "met": met, "best_mAP50-95_in_time": best, "train_seconds": round(train_s, 1),
        "train_call_seconds": round(call_s, 1), "dataset_seconds": round(gen_s, 1), "curve": curve,
        "run_dir": str(save_dir),
        "machine": {"cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                    "torch": torch.__version__, "python": platform.python_version(),
                    "loadavg_1m_at_end": os.getloadavg()[0] if hasattr(os, "getloadavg") else None},
    }
    out = Path(args.out) if args.out else Path(args.project) / f"{args.name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
