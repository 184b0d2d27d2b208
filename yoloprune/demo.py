"""The README's main job, offline, end to end.

shapes data -> dense yolov8n -> progressive pruning to half the MACs with the callbacks (the epochs
after the last step are the fine-tune stage) -> export ONNX, OpenVINO FP32/INT8 and CoreML ->
benchmark dense vs pruned on this CPU -> ``report.md``/``report.json`` + plots in one run folder.
"""

from __future__ import annotations

from pathlib import Path

DEMO_FORMATS = "onnx,openvino:fp32,openvino:int8,coreml:fp16"


def _train_dense(model: str, data_yaml: Path, out: Path, train_args: dict, epochs: int) -> Path:
    from .trainer import YOLO  # noqa: PLC0415  (its trainer trains channels-last on the CPU)

    yolo = YOLO(model)
    # validated once at the end (per-epoch validation of a young model costs ~40% of the training time here)
    yolo.train(data=str(data_yaml), epochs=epochs, project=str(out), name="dense", exist_ok=True,
               **{"val": False, **train_args})
    return Path(yolo.trainer.best)


def format_table(rows: list[dict]) -> str:
    """Markdown table of model rows with params, MACs, mAP50-95 and, when measured, OpenVINO latency."""
    lines = ["| model | params | MACs (G) | mAP50-95 | OpenVINO FP32 ms | OpenVINO INT8 ms |", "|---|---:|---:|---:|---:|---:|"]
    ms = lambda v: "n/a" if v is None else f"{v:.1f}"  # noqa: E731
    for r in rows:
        lines.append(f"| {r['model']} | {r['params']:,} | {r['macs']:.3f} | {r['map50_95']:.3f} | "
                     f"{ms(r.get('openvino_fp32_ms'))} | {ms(r.get('openvino_int8_ms'))} |")
    return "\n".join(lines)


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
    from . import offline  # noqa: PLC0415

    offline.configure()
    from ultralytics.utils import LOGGER  # noqa: PLC0415

    from .api import prune, run_dir, write_json_atomic  # noqa: PLC0415
    from .checkpoint import load_model  # noqa: PLC0415
    from .config import PruneConfig  # noqa: PLC0415
    from .data import dataset_recipe, resolve_dataset  # noqa: PLC0415
    from .engine import model_stats  # noqa: PLC0415
    from .export.benchmark import benchmark  # noqa: PLC0415
    from .export.exporter import validate_map  # noqa: PLC0415
    from .report import build_report  # noqa: PLC0415

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
    config = PruneConfig(criterion=criterion, target="macs", amount=amount, imgsz=imgsz, schedule="agp",
                         steps=steps, start_epoch=0, end_epoch=end_epoch)
    LOGGER.info(f"yoloprune demo [2/5] pruning to {amount:.0%} of the MACs with the callbacks: {steps} agp steps "
                f"in epochs 1-{end_epoch + 1}, then fine-tuning to epoch {prune_epochs}")
    # a trained start: no warm-up (its bias-LR ramp would undo the dense training), a fine-tune learning rate
    finetune_args = {**train_args, "warmup_epochs": 0, "lr0": train_args.get("lr0", 0.002) / 2}
    result = prune(dense_pt, data=data_yaml, config=config, project=out, name="pruned", exist_ok=True,
                   epochs=prune_epochs, train_args={k: v for k, v in finetune_args.items() if k != "imgsz"})
    pruned_pt = result.checkpoint

    LOGGER.info("yoloprune demo [3/5] validating dense and pruned models")
    rows = []
    for label, weights in (("dense", dense_pt), ("pruned", pruned_pt)):
        net, _ = load_model(weights)
        stats = model_stats(net, imgsz)
        rows.append({"model": label, "weights": str(weights), "params": stats.params, "macs": stats.macs,
                     "map50_95": validate_map(weights, data_yaml, imgsz, batch=16)})

    LOGGER.info(f"yoloprune demo [4/5] exporting ({formats}) and benchmarking dense vs pruned on this CPU")
    bench = benchmark(pruned_pt, dense=dense_pt, target="intel-cpu", formats=formats, imgsz=imgsz, data=data_yaml,
                      runs=runs, warmup=max(runs // 3, 1), out_dir=out / "benchmark")
    for row in rows:
        row["openvino_fp32_ms"] = _latency(bench, row["model"], "openvino", "fp32")
        row["openvino_int8_ms"] = _latency(bench, row["model"], "openvino", "int8")

    LOGGER.info("yoloprune demo [5/5] writing the run report")
    summary = {"imgsz": imgsz, "epochs": epochs, "prune_epochs": prune_epochs, "criterion": result.report["criterion"],
               "amount": amount, "config": config.to_dict(), "rows": rows, "prune": result.report}
    write_json_atomic(summary, out / "demo.json")
    table = format_table(rows)
    (out / "demo.md").write_text(f"MACs at imgsz={imgsz}, latency: batch 1 on this CPU\n\n{table}\n")
    report_md = build_report(out)
    print(f"\nReport: {report_md}\nDense vs pruned (MACs at imgsz={imgsz}; latency batch 1, median):\n{table}")
    return out
