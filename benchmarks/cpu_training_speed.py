"""CPU training speed: Ultralytics' CPU defaults vs yoloprune's trainer, side by side in one run.

1. Forward + backward of a YOLO detector (train mode, the raw head outputs as a stand-in loss), batch
   ``--batch`` at ``--imgsz``, interleaved rounds of each setting: Ultralytics' default on this machine
   (``cpu_count - 1`` threads, NCHW), all cores NCHW, all cores NHWC
   (``yoloprune.integrations.ultralytics.cpu_speed``).
2. One real training epoch on ``shapes`` each with ``ultralytics.YOLO`` (its defaults) and with
   ``yoloprune.YOLO`` (whose trainer registers the speed callbacks), same recipe, validation off.

    .venv/bin/python benchmarks/cpu_training_speed.py --out benchmarks/results/cpu_training_speed.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def forward_backward(model_cfg: str, imgsz: int, batch: int, rounds: int) -> dict:
    import torch

    from ultralytics.nn.tasks import DetectionModel
    from ultralytics.utils import NUM_THREADS

    model = DetectionModel(model_cfg, nc=6, verbose=False).train()
    x = torch.rand(batch, 3, imgsz, imgsz)
    settings = {
        f"ultralytics default ({NUM_THREADS} thread(s), NCHW)": (NUM_THREADS, torch.contiguous_format),
        f"{os.cpu_count()} threads, NCHW": (os.cpu_count(), torch.contiguous_format),
        f"{os.cpu_count()} threads, NHWC (yoloprune)": (os.cpu_count(), torch.channels_last),
    }

    def once(threads, fmt) -> float:
        torch.set_num_threads(threads)
        model.to(memory_format=fmt)
        model.zero_grad(set_to_none=True)
        t = time.perf_counter()
        out = model(x)
        feats = out["feats"] if isinstance(out, dict) else out
        sum(f.float().pow(2).mean() for f in feats).backward()
        return time.perf_counter() - t

    for setting in settings.values():
        once(*setting)  # warm-up: oneDNN primitive creation
    times = {name: [] for name in settings}
    for _ in range(rounds):
        for name, setting in settings.items():
            times[name].append(once(*setting))
    base = statistics.median(next(iter(times.values())))
    return {name: {"median_s": round(statistics.median(t), 4), "speedup_vs_default": round(base / statistics.median(t), 3)}
            for name, t in times.items()}


def one_epoch(yolo_cls, model_cfg: str, data: Path, recipe: dict, project: Path, name: str) -> float:
    yolo = yolo_cls(model_cfg)
    seconds = {}
    yolo.add_callback("on_train_epoch_start", lambda t: seconds.__setitem__("start", time.perf_counter()))
    yolo.add_callback("on_train_epoch_end", lambda t: seconds.__setitem__("end", time.perf_counter()))
    yolo.train(data=str(data), epochs=1, val=False, plots=False, verbose=False, project=str(project), name=name,
               exist_ok=True, **recipe)
    return seconds["end"] - seconds["start"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="yolov8n.yaml")
    ap.add_argument("--imgsz", type=int, default=320)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--skip-epochs", action="store_true", help="only the forward/backward comparison")
    ap.add_argument("--out", default=None, help="JSON output")
    args = ap.parse_args()
    os.environ.setdefault("YOLOPRUNE_HOME", str(Path(tempfile.gettempdir()) / "yoloprune"))

    from yoloprune import offline

    offline.configure()
    from ultralytics import YOLO as StockYOLO

    from yoloprune import YOLO
    from yoloprune.data import dataset_recipe, resolve_dataset

    result = {"model": args.model, "imgsz": args.imgsz, "batch": args.batch, "cpu_count": os.cpu_count(),
              "forward_backward": forward_backward(args.model, args.imgsz, args.batch, args.rounds)}
    for name, row in result["forward_backward"].items():
        print(f"forward+backward  {name:40s} {row['median_s']:.3f} s  x{row['speedup_vs_default']:.2f}")
    if not args.skip_epochs:
        recipe = {k: v for k, v in dataset_recipe("shapes").items() if k not in {"model", "epochs"}}
        data = resolve_dataset("shapes")
        project = Path(tempfile.mkdtemp(prefix="cpu_speed_"))
        stock = one_epoch(StockYOLO, args.model, data, recipe, project, "ultralytics")
        ours = one_epoch(YOLO, args.model, data, recipe, project, "yoloprune")
        result["epoch_s"] = {"ultralytics.YOLO": round(stock, 1), "yoloprune.YOLO": round(ours, 1),
                             "speedup": round(stock / ours, 3)}
        print(f"one shapes epoch: ultralytics.YOLO {stock:.1f} s, yoloprune.YOLO {ours:.1f} s (x{stock / ours:.2f})")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
