"""The README's main job, offline: shapes data -> dense yolov8n -> prune to half the MACs -> fine-tune -> compare."""

from __future__ import annotations

from pathlib import Path


def _train_dense(model: str, data_yaml: Path, out: Path, recipe: dict, epochs: int) -> Path:
    from ultralytics import YOLO  # noqa: PLC0415

    yolo = YOLO(model)
    args = {k: v for k, v in recipe.items() if k not in {"model", "epochs"}}
    yolo.train(data=str(data_yaml), epochs=epochs, project=str(out), name="dense", exist_ok=True, **args)
    return Path(yolo.trainer.best)


def _evaluate(weights: Path, data_yaml: Path, imgsz: int) -> float:
    from ultralytics import YOLO  # noqa: PLC0415

    metrics = YOLO(str(weights)).val(data=str(data_yaml), imgsz=imgsz, batch=16, plots=False, verbose=False, workers=0)
    return float(metrics.box.map)


def format_table(rows: list[dict]) -> str:
    """Markdown table of model rows with params, MACs and mAP50-95."""
    lines = ["| model | params | MACs (G) | mAP50-95 |", "|---|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['params']:,} | {r['macs']:.3f} | {r['map50_95']:.3f} |")
    return "\n".join(lines)


def run_demo(
    model: str = "yolov8n.yaml",
    data: str = "shapes",
    epochs: int | None = None,
    finetune_epochs: int | None = None,
    amount: float = 0.5,
    criterion: str = "l2",
    imgsz: int | None = None,
    project: str = "runs/demo",
    name: str = "demo",
    exist_ok: bool = False,
) -> Path:
    """Run the demo; returns the run folder holding ``demo.json`` and ``demo.md``."""
    from . import offline  # noqa: PLC0415

    offline.configure()
    from ultralytics.utils import LOGGER  # noqa: PLC0415

    from .api import prune, run_dir, write_json_atomic  # noqa: PLC0415
    from .checkpoint import load_model  # noqa: PLC0415
    from .data import dataset_recipe, resolve_dataset  # noqa: PLC0415
    from .engine import model_stats  # noqa: PLC0415
    from .finetune import finetune  # noqa: PLC0415

    recipe = dataset_recipe(data) if not str(data).endswith((".yaml", ".yml")) else {}
    imgsz = imgsz or recipe.get("imgsz", 320)
    recipe = {**recipe, "imgsz": imgsz}
    epochs = epochs or recipe.get("epochs", 30)
    finetune_epochs = finetune_epochs or max(epochs // 2, 1)
    out = run_dir(project, name, exist_ok)
    data_yaml = resolve_dataset(data)

    LOGGER.info(f"yoloprune demo [1/4] training dense {model} for {epochs} epochs on {data}")
    dense_pt = _train_dense(model, data_yaml, out, recipe, epochs)
    LOGGER.info(f"yoloprune demo [2/4] pruning {dense_pt} to {amount:.0%} of its MACs ({criterion})")
    result = prune(dense_pt, data=data, project=out, name="pruned", exist_ok=True,
                   criterion=criterion, target="macs", amount=amount, imgsz=imgsz)
    LOGGER.info(f"yoloprune demo [3/4] fine-tuning the pruned model for {finetune_epochs} epochs")
    train_args = {k: v for k, v in recipe.items() if k not in {"model", "epochs"}}
    tuned_pt = finetune(result.checkpoint, data, epochs=finetune_epochs, project=str(out), name="finetune",
                        exist_ok=True, **train_args)
    LOGGER.info("yoloprune demo [4/4] validating dense and pruned models")
    rows = []
    for label, weights in (("dense", dense_pt), ("pruned + fine-tuned", tuned_pt)):
        net, _ = load_model(weights)
        stats = model_stats(net, imgsz)
        rows.append({"model": label, "weights": str(weights), "params": stats.params, "macs": stats.macs,
                     "map50_95": _evaluate(weights, data_yaml, imgsz)})
    table = format_table(rows)
    summary = {"imgsz": imgsz, "epochs": epochs, "finetune_epochs": finetune_epochs, "criterion": criterion,
               "amount": amount, "rows": rows, "prune": result.report.to_dict()}
    write_json_atomic(summary, out / "demo.json")
    (out / "demo.md").write_text(f"MACs at imgsz={imgsz}\n\n{table}\n")
    print(f"\nDense vs pruned (MACs at imgsz={imgsz}):\n{table}")
    return out
