"""Baseline: a dense YOLOv8n trained from scratch on the offline ``shapes`` dataset, on the CPU.

Generates ``shapes`` (the size in ``datasets.yaml``), trains ``yolov8n.yaml`` with the ``shapes``
recipe from ``datasets.yaml`` and times it: the clock runs from the first epoch's start to each
epoch's end, training only. Validation is measurement, not training, so it is kept out of the clock:
every epoch's EMA weights are saved (``epoch<N>.pt``) and validated on the val split afterwards.
Prints and writes (JSON) the curve: wall-clock seconds of training vs mAP50-95 after each epoch.

Target the project must meet: mAP50-95 >= 0.60 on the shapes val split within 5 minutes of training.

    PYTHONPATH=. .venv/bin/python benchmarks/shapes_baseline.py [--set epochs=20 --set lr0=0.003]
"""

from __future__ import annotations

import argparse
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


def validate_epochs(weights: Path, data_yaml: Path, imgsz: int, epoch_ends: list[float]) -> list[dict]:
    """Validate ``epoch<N>.pt`` (each epoch's EMA weights) on the val split; one row per epoch."""
    from ultralytics import YOLO  # noqa: PLC0415

    curve = []
    for i, elapsed in enumerate(epoch_ends):
        box = YOLO(str(weights / f"epoch{i}.pt")).val(data=str(data_yaml), imgsz=imgsz, batch=16, plots=False,
                                                         verbose=False, workers=0).box
        curve.append({"epoch": i + 1, "elapsed_s": round(elapsed, 1), "precision": round(float(box.mp), 5),
                      "recall": round(float(box.mr), 5), "mAP50": round(float(box.map50), 5),
                      "mAP50-95": round(float(box.map), 5)})
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

    from yoloprune import YOLO  # noqa: PLC0415  (ultralytics.YOLO + CPU speed: all cores, channels-last)

    model = YOLO(model_cfg)
    epoch_ends: list[float] = []
    start = {}

    def on_train_start(_trainer):
        torch.set_num_threads(args.threads)  # after Ultralytics' select_device() set cpu_count-1
        start["t"] = time.perf_counter()

    def on_train_epoch_end(_trainer):  # the epoch's training is done; validation and saving not counted
        epoch_ends.append(time.perf_counter() - start["t"])

    model.add_callback("on_train_start", on_train_start)
    model.add_callback("on_train_epoch_end", on_train_epoch_end)
    # validation is measurement, not training: each epoch's EMA weights are saved and validated afterwards
    train_args = {"device": "cpu", "plots": False, "amp": False, "val": False, "save_period": 1, "exist_ok": True,
                  "project": str(Path(args.project).resolve()), "name": args.name, "verbose": False, **recipe}
    print("recipe:", json.dumps({"model": model_cfg, **recipe}))
    t_call = time.perf_counter()
    model.train(data=str(data_yaml), **train_args)
    call_s = time.perf_counter() - t_call
    save_dir = Path(model.trainer.save_dir)
    train_s = epoch_ends[-1] if epoch_ends else float("nan")
    curve = validate_epochs(save_dir / "weights", data_yaml, recipe.get("imgsz", 320), epoch_ends)
    print(f"\n{'epoch':>5} {'elapsed_s':>9} {'mAP50':>7} {'mAP50-95':>8}")
    for row in curve:
        print(f"{row['epoch']:>5} {row['elapsed_s']:>9.1f} {row['mAP50']:>7.3f} {row['mAP50-95']:>8.3f}")
    in_time = [r for r in curve if r["elapsed_s"] is not None and r["elapsed_s"] <= TARGET_SECONDS]
    best = max((r["mAP50-95"] for r in in_time), default=0.0)
    met = best >= TARGET_MAP
    print(f"\ntraining (first epoch start -> last epoch's end, validation excluded): {train_s:.1f} s; "
          f"train() call incl. setup, checkpoints and the final validation: {call_s:.1f} s")
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
