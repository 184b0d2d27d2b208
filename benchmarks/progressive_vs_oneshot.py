"""Issue 3 benchmark: dense vs progressive callbacks vs one-shot + fine-tune vs progressive + distillation.

Every arm trains the same total number of epochs on `shapes` and targets half the dense MACs, either
from scratch or — with --start (a trained dense checkpoint, e.g. the demo's) — from the same trained
dense model: dense keeps training, progressive prunes in 3 AGP steps during the first quarter (the LR
re-warms after each), one-shot prunes at once and fine-tunes (Torch-Pruning's example recipe); with
--pretrain P each model is first trained dense for P epochs and that checkpoint is the shared start.
Arms: dense, progressive, oneshot, callbacks-oneshot; a pruned callbacks arm takes modifiers:
`+distill` (distill=both) and `+restart` / `+continue` (finetune_lr: the fine-tune stage gets the
whole LR schedule, the default, or the run's decayed tail). Pruned arms use the default criterion
(auto: taylor_raw on real batches; `--prune criterion=taylor` or `criterion=l2` to compare). Reports
mAP50-95 (best.pt on the val split), params, MACs at --imgsz, wall time, and the pruning overhead
(time inside prune steps / total training time). `--set` / `--prune` overrides are appended to the
arm's name (`dense (seed=1)`), so arms run in parallel processes (separate --out) and combined with
--merge stay apart.

    .venv/bin/python benchmarks/progressive_vs_oneshot.py --models yolov8n.yaml,yolo11n.yaml --epochs 30
    .venv/bin/python benchmarks/progressive_vs_oneshot.py --merge a/results.json b/results.json --out c
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _val(weights, data, imgsz, split="val"):
    from ultralytics import YOLO

    return float(YOLO(str(weights)).val(data=str(data), imgsz=imgsz, batch=16, plots=False, verbose=False,
                                        split=split).box.map)


def _has_split(data, split: str) -> bool:
    from yoloprune.data.loaders import load_dataset

    return bool(load_dataset(data).get(split))


def _stock_yolo(source: str):
    """``ultralytics.YOLO`` with yoloprune's CPU speed callbacks, so every arm trains at the same speed settings."""
    from ultralytics import YOLO

    from yoloprune.integrations.ultralytics.cpu_speed import add_cpu_training_speed

    yolo = YOLO(source)
    add_cpu_training_speed(yolo)
    return yolo


ARMS = ("dense", "progressive", "oneshot", "callbacks-oneshot")


def parse_arm(arm: str) -> tuple[str, list[str]]:
    """``progressive+distill+continue`` -> ("progressive", ["distill", "continue"]) (restart/continue: finetune_lr)."""
    base, *modifiers = arm.split("+")
    if base not in ARMS or set(modifiers) - {"distill", "restart", "continue"}:
        raise SystemExit(f"unknown arm {arm!r}: use one of {', '.join(ARMS)}, "
                         "optionally with +distill, +restart / +continue (PruneConfig.finetune_lr)")
    return base, modifiers


def run_arm(arm: str, model: str, data: Path, epochs: int, imgsz: int, out: Path, train: dict, start=None,
            prune_options: dict | None = None) -> dict:
    from yoloprune import ProgressiveConfig
    from yoloprune import YOLO as PrunedYOLO
    from yoloprune.workflows.oneshot import prune
    from yoloprune.callbacks import add_pruning_callbacks
    from yoloprune.integrations.ultralytics.model_io import load_model
    from yoloprune.core.stats import model_stats

    common = dict(data=str(data), imgsz=imgsz, project=str(out), exist_ok=True, **train)
    # from a trained start the steps come early (epochs 1..N/4), so the final width gets most of the fine-tune
    schedule = {"start_epoch": 0, "end_epoch": max(epochs // 4, 1)} if start else {}
    base, modifiers = parse_arm(arm)
    cfg = ProgressiveConfig.of(**{"target": "macs", "amount": 0.5, "imgsz": imgsz, "steps": 3, "schedule": "agp", **schedule,
                         "distill": "both" if "distill" in modifiers else "none",
                         **{"finetune_lr": m for m in modifiers if m in {"restart", "continue"}}, **(prune_options or {})})
    source = str(start) if start else model
    t0 = time.perf_counter()
    overhead, criterion = 0.0, "-"
    if base == "dense":
        yolo = _stock_yolo(source)
        yolo.train(epochs=epochs, name=f"{Path(model).stem}-dense", **common)
        best = yolo.trainer.best
    elif base in {"progressive", "callbacks-oneshot"}:
        if base == "callbacks-oneshot":  # the degenerate schedule through the same callbacks: one step at epoch 1
            cfg = ProgressiveConfig.of(**{**cfg.to_dict(), "schedule": "oneshot", "steps": 1, "end_epoch": cfg.start_epoch})
        yolo = _stock_yolo(source)
        cb = add_pruning_callbacks(yolo, cfg)
        yolo.train(epochs=epochs, name=f"{Path(model).stem}-{arm}", **common)
        best, overhead, criterion = yolo.trainer.best, sum(h["seconds"] for h in cb.history), cb.config.prune.criterion
    else:  # one-shot: dense for half the epochs, prune, fine-tune the other half (Torch-Pruning's example recipe)
        half = 0 if start else epochs // 2
        dense_pt = start
        if not start:
            yolo = _stock_yolo(model)
            yolo.train(epochs=half, name=f"{Path(model).stem}-oneshot-dense", **common)
            dense_pt = yolo.trainer.best
        t1 = time.perf_counter()
        result = prune(dense_pt, cfg.prune, data=str(data), project=out, name=f"{Path(model).stem}-oneshot-pruned",
                       exist_ok=True)
        overhead, criterion = time.perf_counter() - t1, result.report.criterion
        tuned = PrunedYOLO(str(result.checkpoint))
        # the fine-tune starts from trained weights: no warm-up (its bias LR of 0.1 would first undo the training)
        tuned.train(epochs=epochs - half, name=f"{Path(model).stem}-oneshot-ft", **{**common, "warmup_epochs": 0})
        best = tuned.trainer.best
    wall = time.perf_counter() - t0
    net, _ = load_model(best)
    stats = model_stats(net, imgsz)
    test = _val(best, data, imgsz, "test") if _has_split(data, "test") else None  # held out: not used to pick best.pt
    return {"model": model, "arm": arm, "criterion": criterion, "map50_95": _val(best, data, imgsz), "map50_95_test": test,
            "params": stats.params,
            "macs_g": stats.macs, "wall_s": round(wall, 1), "prune_overhead": round(overhead / wall, 4),
            "weights": str(best)}


def arm_label(arm: str, train_overrides: list[str], prune_overrides: list[str]) -> str:
    """``progressive+distill (distill_weight=3, seed=1)``: the arm and the options it ran with, so merged rows stay apart."""
    options = [o for o in prune_overrides if not o.startswith("criterion=")] + list(train_overrides)  # own column
    return f"{arm} ({', '.join(options)})" if options else arm


def yaml_value(text: str):
    import yaml

    return yaml.safe_load(text)


def pretrain(model: str, data: Path, epochs: int, imgsz: int, out: Path, train: dict) -> str:
    """The shared trained dense start of every arm (counts for no arm's epochs)."""
    yolo = _stock_yolo(model)
    yolo.train(data=str(data), epochs=epochs, imgsz=imgsz, project=str(out), name=f"{Path(model).stem}-pretrain",
               exist_ok=True, **train)
    return str(yolo.trainer.best)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="yolov8n.yaml,yolo11n.yaml")
    ap.add_argument("--arms", default="dense,progressive,oneshot,progressive+distill,callbacks-oneshot")
    ap.add_argument("--data", default="shapes")
    ap.add_argument("--epochs", type=int, default=None, help="default: the dataset recipe's epochs")
    ap.add_argument("--out", default="benchmarks/results/progressive_vs_oneshot")
    ap.add_argument("--start", default=None,
                    help="trained dense checkpoints every arm starts from, one per model (comma-separated)")
    ap.add_argument("--pretrain", type=int, default=0,
                    help="train each model dense for this many epochs first and start every arm from it")
    ap.add_argument("--imgsz", type=int, default=None, help="default: the dataset recipe's imgsz")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override one training argument for every arm (e.g. --set lr0=0.001), repeatable")
    ap.add_argument("--prune", action="append", default=[], metavar="KEY=VALUE",
                    help="override one PruneConfig option for every pruned arm (e.g. --prune schedule=linear)")
    ap.add_argument("--merge", nargs="+", default=None, metavar="RESULTS_JSON",
                    help="only combine the results.json of separate runs (e.g. arms run in parallel) into --out")
    args = ap.parse_args()
    out = Path(args.out).resolve()
    if args.merge:
        return merge(args.merge, out)
    arms = args.arms.split(",")
    for arm in arms:
        parse_arm(arm)  # fail before hours of training

    from yoloprune import offline

    offline.configure()
    from yoloprune.data import dataset_recipe, resolve_dataset

    recipe = {} if args.data.endswith((".yaml", ".yml")) else dataset_recipe(args.data)  # a YAML path: --set recipe
    epochs = args.epochs or recipe.get("epochs", 30)
    imgsz = args.imgsz or recipe.get("imgsz", 320)
    train = {k: v for k, v in recipe.items() if k not in {"model", "epochs", "imgsz"}}
    train.update(plots=False, verbose=False)
    train.update({k: yaml_value(v) for k, v in (kv.split("=", 1) for kv in args.set)})  # the pretrain's too
    data = resolve_dataset(args.data)
    models = args.models.split(",")
    starts = [s or None for s in args.start.split(",")] if args.start else [None] * len(models)  # "a.pt," = pretrain 2nd
    if len(starts) != len(models):
        ap.error("--start needs one checkpoint per model in --models")
    prune_options = {k: yaml_value(v) for k, v in (kv.split("=", 1) for kv in args.prune)}
    rows = []
    for model, start in zip(models, starts):
        if args.pretrain and not start:
            start = pretrain(model, data, args.pretrain, imgsz, out / "runs", train)
        arm_train = dict(train)
        if start:  # fine-tuning a trained model: Ultralytics' warm-up (bias LR 0.1) would first undo its training
            arm_train["warmup_epochs"] = 0
        arm_train.update({k: yaml_value(v) for k, v in (kv.split("=", 1) for kv in args.set)})  # --set wins
        for arm in arms:
            rows.append(run_arm(arm, model, data, epochs, imgsz, out / "runs", arm_train, start, prune_options))
            rows[-1]["arm"] = arm_label(arm, args.set, args.prune if arm != "dense" else [])
            print(json.dumps(rows[-1]), flush=True)
            (out / "results.json").parent.mkdir(parents=True, exist_ok=True)
            (out / "results.json").write_text(json.dumps({"epochs": epochs, "imgsz": imgsz, "start": args.start,
                                                          "pretrain": args.pretrain, "train": arm_train,
                                                          "rows": rows}, indent=2))
    print_table(rows, imgsz)


def print_table(rows: list[dict], imgsz: int) -> None:
    print(f"\n| model | arm | criterion | mAP50-95 (val) | mAP50-95 (test) | params | GMACs@{imgsz} | wall s | prune overhead |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        test = "" if r.get("map50_95_test") is None else f"{r['map50_95_test']:.3f}"
        print(f"| {r['model']} | {r['arm']} | {r.get('criterion', '?')} | {r['map50_95']:.3f} | {test} | {r['params']:,} | "
              f"{r['macs_g']:.3f} | {r['wall_s']:.0f} | {r['prune_overhead']:.1%} |")


def merge(paths: list[str], out: Path) -> None:
    """One results.json from several runs with the same settings; a later file's (model, arm, criterion) row wins."""
    results = [json.loads(Path(p).read_text()) for p in paths]
    settings = {k: v for k, v in results[0].items() if k != "rows"}
    for p, r in zip(paths, results):
        if (r["epochs"], r["imgsz"]) != (settings["epochs"], settings["imgsz"]):
            raise SystemExit(f"{p} was run with other epochs/imgsz than {paths[0]}: not comparable")
    rows = {(row["model"], row["arm"], row.get("criterion")): row for r in results for row in r["rows"]}
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps({**settings, "merged_from": paths, "rows": list(rows.values())},
                                                 indent=2))
    print_table(list(rows.values()), settings["imgsz"])


if __name__ == "__main__":
    main()
