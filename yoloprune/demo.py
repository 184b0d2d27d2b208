"""The README's main job, offline, end to end.

shapes data -> dense yolov8n -> progressive pruning to half the MACs with the callbacks (the epochs
after the last step are the fine-tune stage) -> export ONNX, OpenVINO FP32/INT8 and CoreML ->
benchmark dense vs pruned on this CPU -> ``report.md``/``report.json`` + plots in one run folder.
"""

from __future__ import annotations

from pathlib import Path

from ultralytics.utils import LOGGER

from . import offline
from .core.config import ProgressiveConfig, PruneConfig
from .core.stats import model_stats
from .data.registry import dataset_recipe, resolve_dataset
from .benchmarking.benchmark import benchmark
from .export.parity import val_map
from .integrations.ultralytics.model_io import load_model
from .integrations.ultralytics.trainer import YOLO  # its trainer trains channels-last on the CPU
from .io import run_dir, write_json_atomic, write_text_atomic
from .reporting.report import build_report
from .reporting.tables import LATENCY_COLUMNS, format_table
from .workflows.progressive import prune_progressive

DEMO_FORMATS = "onnx,openvino:fp32,openvino:bf16,openvino:int8,coreml:fp16"  # bf16: where the CPU has it


def _train_dense(model: str, data_yaml: Path, out: Path, train_args: dict, epochs: int, name: str = "dense") -> Path:
    yolo = YOLO(str(model))
    # validated once at the end (per-epoch validation of a young model costs ~40% of the training time here)
    yolo.train(data=str(data_yaml), epochs=epochs, project=str(out), name=name, exist_ok=True,
               **{"val": False, **train_args})
    return Path(yolo.trainer.best)


def _latency(bench: dict, label: str, fmt: str, precision: str):
    for row in bench.get("benchmarks", []):
        if (row["model"], row["format"], row["precision"]) == (label, fmt, precision):
            return row.get("latency_ms_median")
    return None


def run_demo(
    model: str = "yolov8n.yaml",
    data: str = "shapes",
    epochs: int | None = None,
    prune_epochs: int | None = None,
    amount: float = 0.5,
    criterion: str = "auto",
    steps: int = 3,
    imgsz: int | None = None,
    formats: str = DEMO_FORMATS,
    runs: int = 30,
    project: str = "runs/demo",
    name: str = "demo",
    exist_ok: bool = False,
) -> Path:
    """Run the demo; returns the run folder (``report.md``, ``report.json``, ``demo.json``, plots, weights)."""
    offline.configure()  # the demo is offline by promise (its entry point set the environment before any import)
    recipe = dataset_recipe(data) if not str(data).endswith((".yaml", ".yml")) else {}
    imgsz = imgsz or recipe.get("imgsz", 320)
    epochs = epochs or recipe.get("epochs", 30)
    prune_epochs = prune_epochs or max(epochs * 3 // 4, steps + 1)  # the pruned model starts trained: fewer epochs
    train_args = {k: v for k, v in recipe.items() if k not in {"model", "epochs"}} | {"imgsz": imgsz}
    out = run_dir(project, name, exist_ok).resolve()  # absolute: Ultralytics puts relative projects under runs_dir
    data_yaml = resolve_dataset(data)

    LOGGER.info(f"yoloprune demo [1/5] training dense {model} for {epochs} epochs on {data} at {imgsz} px")
    dense_pt = _train_dense(model, data_yaml, out, train_args, epochs)

    end_epoch = min(max(prune_epochs // 4, 1), prune_epochs - 1)  # steps early: the final width gets most epochs
    config = ProgressiveConfig(prune=PruneConfig(criterion=criterion, target="macs", amount=amount, imgsz=imgsz),
                               schedule="agp", steps=steps, start_epoch=0, end_epoch=end_epoch)
    LOGGER.info(f"yoloprune demo [2/5] pruning to {amount:.0%} of the MACs with the callbacks: {steps} agp steps "
                f"in epochs 1-{end_epoch + 1}, then fine-tuning to epoch {prune_epochs}")
    # a trained start: no warm-up (its bias-LR ramp would undo the dense training), a fine-tune learning rate
    finetune_args = {**train_args, "warmup_epochs": 0, "lr0": train_args.get("lr0", 0.002) / 2}
    result = prune_progressive(dense_pt, data_yaml, config, epochs=prune_epochs, project=out, name="pruned",
                               exist_ok=True, train_args={k: v for k, v in finetune_args.items() if k != "imgsz"})
    pruned_pt = result.checkpoint
    # the honest comparison: the dense model trained as many epochs in all, with the same fine-tune recipe
    LOGGER.info(f"yoloprune demo [3/5] training the dense model {prune_epochs} epochs more (equal epochs) and validating")
    dense_same_pt = _train_dense(dense_pt, data_yaml, out, {**finetune_args, "val": True}, prune_epochs, "dense-same-epochs")
    rows = []
    total = f"{epochs} + {prune_epochs}"
    for label, weights, trained in (("dense", dense_pt, f"{epochs}"), ("dense, same epochs", dense_same_pt, total),
                                    ("pruned", pruned_pt, total)):
        net, _ = load_model(weights)
        stats = model_stats(net, imgsz)
        rows.append({"model": label, "weights": str(weights), "params": stats.params, "macs": stats.macs,
                     "epochs_label": trained, "map50_95": val_map(weights, data_yaml, imgsz, batch=16)})

    LOGGER.info(f"yoloprune demo [4/5] exporting ({formats}) and benchmarking dense vs pruned on this CPU")
    # against the dense model of equal epochs: the benchmark's mAP per format and pareto.png compare like with like
    bench = benchmark(pruned_pt, dense=dense_same_pt, hardware="intel-cpu", formats=formats, imgsz=imgsz, data=data_yaml,
                      runs=runs, warmup=max(runs // 3, 1), out_dir=out / "benchmark")
    for row in rows:
        timed = "pruned" if row["model"] == "pruned" else "dense"  # same architecture, same latency
        for precision, _ in LATENCY_COLUMNS:
            row[f"openvino_{precision}_ms"] = _latency(bench, timed, "openvino", precision)

    LOGGER.info("yoloprune demo [5/5] writing the run report")
    prune = result.summary.to_dict()
    summary = {"imgsz": imgsz, "epochs": epochs, "prune_epochs": prune_epochs, "criterion": prune["criterion"],
               "amount": amount, "config": config.to_dict(), "rows": rows, "prune": prune}
    write_json_atomic(summary, out / "demo.json")
    table = format_table(rows)
    write_text_atomic(f"MACs at imgsz={imgsz}, latency: batch 1 on this CPU (the dense rows share one "
                      f"architecture, timed once)\n\n{table}\n", out / "demo.md")
    report_md = build_report(out)
    print(f"\nReport: {report_md}\nDense vs pruned (MACs at imgsz={imgsz}; latency batch 1, median):\n{table}")
    return out
