"""The README's main job, offline, end to end.

shapes data -> dense yolov8n -> progressive pruning to half the MACs with the callbacks (the epochs
after the last step are the fine-tune stage) -> export ONNX, OpenVINO FP32/INT8 and CoreML ->
benchmark dense vs pruned on this CPU -> ``report.md``/``report.json`` + plots in one run folder.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ultralytics.utils import LOGGER

from . import offline
from .benchmarking.benchmark import BenchmarkResult, benchmark
from .benchmarking.config import BenchmarkConfig
from .core.config import ProgressiveConfig, PruneConfig, from_options
from .core.stats import model_stats
from .data.registry import dataset_recipe, resolve_dataset
from .errors import ConfigError
from .export.parity import val_map
from .integrations.ultralytics.model_io import load_model
from .integrations.ultralytics.trainer import YOLO  # its trainer trains channels-last on the CPU
from .io import run_dir, write_json_atomic, write_text_atomic
from .reporting.report import build_report
from .reporting.tables import LATENCY_COLUMNS, format_table
from .workflows.progressive import prune_progressive

if TYPE_CHECKING:
    from .workflows.progressive import ProgressiveSummary

DEMO_FORMATS = "onnx,openvino:fp32,openvino:bf16,openvino:int8,coreml:fp16"  # bf16: where the CPU has it


@dataclass(frozen=True)
class DemoConfig:
    """The demo's knobs (``yolo-prune demo`` takes the same keys).

    Attributes:
        model: the dense model to train from scratch (a model YAML) or from a checkpoint.
        data: a dataset name (``shapes``, ``shapes-mini``) or a data YAML.
        epochs: dense training epochs (None: the dataset's recipe, else 30).
        prune_epochs: epochs of the pruning run, prune steps and fine-tune together (None: 3/4 of ``epochs``).
        amount: fraction of the dense model's MACs the pruned model keeps.
        criterion: importance criterion (``auto``: raw Taylor scores on the trainer's batches).
        steps: prune steps (an AGP schedule), early in the pruning run.
        imgsz: image size for training, MACs and benchmarks (None: the dataset's recipe, else 320).
        formats: what is exported and timed on this CPU beside PyTorch.
        runs: timed rounds per format (a third as many warm-up runs).
    """

    model: str = "yolov8n.yaml"
    data: str = "shapes"
    epochs: int | None = None
    prune_epochs: int | None = None
    amount: float = 0.5
    criterion: str = "auto"
    steps: int = 3
    imgsz: int | None = None
    formats: str = DEMO_FORMATS
    runs: int = 30

    def __post_init__(self):
        for name in ("model", "data"):
            if not isinstance(getattr(self, name), (str, Path)):
                raise ConfigError(f"{name}={getattr(self, name)!r} is invalid: give a name or a path")
        for name, least in (("epochs", 1), ("prune_epochs", 1), ("imgsz", 32)):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < least):
                raise ConfigError(f"{name}={value!r} is invalid: a whole number >= {least}, or None for the "
                                  "dataset's recipe")
        self.progressive(end_epoch=0)  # criterion, amount and steps, checked as the pruning run checks them
        bench = BenchmarkConfig(formats=self.formats, runs=self.runs)  # formats and runs, as the benchmark checks them
        object.__setattr__(self, "formats", bench.formats)

    def progressive(self, end_epoch: int, imgsz: int = 640) -> ProgressiveConfig:
        """The pruning run's schedule: ``steps`` AGP steps from epoch 0 to ``end_epoch``, to ``amount`` of the MACs."""
        return ProgressiveConfig(prune=PruneConfig(criterion=self.criterion, target="macs", amount=self.amount,
                                                   imgsz=imgsz), schedule="agp", steps=self.steps, start_epoch=0,
                                 end_epoch=end_epoch)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class DemoRow:
    """One model of the demo's table: its size, how long it trained, its mAP50-95 and OpenVINO latencies."""

    model: str  # "dense", "dense, same epochs" or "pruned"
    weights: str
    params: int
    macs: float  # G, at the demo's imgsz
    epochs_label: str  # how long it trained, e.g. "30 + 22"
    map50_95: float
    openvino_ms: dict[str, float | None] = field(default_factory=dict)  # median ms per precision of LATENCY_COLUMNS

    def to_dict(self) -> dict:
        """The layout of a ``demo.json`` row (``openvino_<precision>_ms`` keys)."""
        d = {k: v for k, v in asdict(self).items() if k != "openvino_ms"}
        return d | {f"openvino_{precision}_ms": self.openvino_ms.get(precision) for precision, _ in LATENCY_COLUMNS}


@dataclass(frozen=True)
class DemoReport:
    """What the demo did (``demo.json``): the settings it resolved, the three models, the pruning run."""

    imgsz: int
    epochs: int
    prune_epochs: int
    amount: float
    config: ProgressiveConfig
    rows: tuple[DemoRow, ...]
    prune: ProgressiveSummary

    @property
    def table(self) -> str:
        """The dense vs pruned Markdown table (params, MACs, epochs, mAP50-95, OpenVINO latencies)."""
        return format_table([r.to_dict() for r in self.rows])

    def to_dict(self) -> dict:
        prune = self.prune.to_dict()
        return {"imgsz": self.imgsz, "epochs": self.epochs, "prune_epochs": self.prune_epochs,
                "criterion": prune["criterion"], "amount": self.amount, "config": self.config.to_dict(),
                "rows": [r.to_dict() for r in self.rows], "prune": prune}


@dataclass(frozen=True)
class DemoResult:
    """The demo's report, its run folder (``report.md``, ``report.json``, ``demo.json``, plots, weights,
    ``benchmark/``), the report's path and the benchmark it ran."""

    report: DemoReport
    run_dir: Path
    report_md: Path
    benchmark: BenchmarkResult


def _train_dense(model: str, data_yaml: Path, out: Path, train_args: dict, epochs: int, name: str = "dense") -> Path:
    yolo = YOLO(str(model))
    # validated once at the end (per-epoch validation of a young model costs ~40% of the training time here)
    yolo.train(data=str(data_yaml), epochs=epochs, project=str(out), name=name, exist_ok=True,
               **{"val": False, **train_args})
    return Path(yolo.trainer.best)


def _latency(bench: BenchmarkResult, label: str, fmt: str, precision: str) -> float | None:
    return next((r.latency_ms_median for r in bench.report.rows if (r.model, r.format, r.precision) ==
                 (label, fmt, precision)), None)


def run_demo(config: DemoConfig | None = None, *, project: str | Path = "runs/demo", name: str = "demo",
             exist_ok: bool = False, **options) -> DemoResult:
    """Run the demo in ``project/name``; ``options`` are :class:`DemoConfig` fields when no ``config`` is given."""
    offline.configure()  # the demo is offline by promise (its entry point set the environment before any import)
    config = from_options(DemoConfig, config, options)
    data, steps = config.data, config.steps
    recipe = dataset_recipe(data) if not str(data).endswith((".yaml", ".yml")) else {}
    imgsz = config.imgsz or recipe.get("imgsz", 320)
    epochs = config.epochs or recipe.get("epochs", 30)
    prune_epochs = config.prune_epochs or max(epochs * 3 // 4, steps + 1)  # the pruned model starts trained: fewer epochs
    train_args = {k: v for k, v in recipe.items() if k not in {"model", "epochs"}} | {"imgsz": imgsz}
    out = run_dir(project, name, exist_ok).resolve()  # absolute: Ultralytics puts relative projects under runs_dir
    data_yaml = resolve_dataset(data)

    LOGGER.info(f"yoloprune demo [1/5] training dense {config.model} for {epochs} epochs on {data} at {imgsz} px")
    dense_pt = _train_dense(config.model, data_yaml, out, train_args, epochs)

    end_epoch = min(max(prune_epochs // 4, 1), prune_epochs - 1)  # steps early: the final width gets most epochs
    schedule = config.progressive(end_epoch, imgsz)
    LOGGER.info(f"yoloprune demo [2/5] pruning to {config.amount:.0%} of the MACs with the callbacks: {steps} agp "
                f"steps in epochs 1-{end_epoch + 1}, then fine-tuning to epoch {prune_epochs}")
    # a trained start: no warm-up (its bias-LR ramp would undo the dense training), a fine-tune learning rate
    finetune_args = {**train_args, "warmup_epochs": 0, "lr0": train_args.get("lr0", 0.002) / 2}
    result = prune_progressive(dense_pt, data=data_yaml, config=schedule, epochs=prune_epochs, project=out,
                               name="pruned", exist_ok=True,
                               train_args={k: v for k, v in finetune_args.items() if k != "imgsz"})
    pruned_pt = result.checkpoint
    # the honest comparison: the dense model trained as many epochs in all, with the same fine-tune recipe
    LOGGER.info(f"yoloprune demo [3/5] training the dense model {prune_epochs} epochs more (equal epochs) and validating")
    dense_same_pt = _train_dense(dense_pt, data_yaml, out, {**finetune_args, "val": True}, prune_epochs, "dense-same-epochs")
    measured = []
    total = f"{epochs} + {prune_epochs}"
    for label, weights, trained in (("dense", dense_pt, f"{epochs}"), ("dense, same epochs", dense_same_pt, total),
                                    ("pruned", pruned_pt, total)):
        net, _ = load_model(weights)
        stats = model_stats(net, imgsz)
        measured.append((label, weights, stats, trained, val_map(weights, data_yaml, imgsz, batch=16)))

    LOGGER.info(f"yoloprune demo [4/5] exporting ({config.formats}) and benchmarking dense vs pruned on this CPU")
    # against the dense model of equal epochs: the benchmark's mAP per format and pareto.png compare like with like
    bench = benchmark(pruned_pt, dense=dense_same_pt, data=data_yaml, project=out, name="benchmark", exist_ok=True,
                      hardware="intel-cpu", formats=config.formats, imgsz=imgsz, runs=config.runs,
                      warmup=max(config.runs // 3, 1))
    rows = []
    for label, weights, stats, trained, map50_95 in measured:
        timed = "pruned" if label == "pruned" else "dense"  # same architecture, same latency
        rows.append(DemoRow(label, str(weights), stats.params, stats.macs, trained, map50_95,
                            {p: _latency(bench, timed, "openvino", p) for p, _ in LATENCY_COLUMNS}))

    LOGGER.info("yoloprune demo [5/5] writing the run report")
    report = DemoReport(imgsz, epochs, prune_epochs, config.amount, schedule, tuple(rows), result.summary)
    write_json_atomic(report.to_dict(), out / "demo.json")
    write_text_atomic(f"MACs at imgsz={imgsz}, latency: batch 1 on this CPU (the dense rows share one "
                      f"architecture, timed once)\n\n{report.table}\n", out / "demo.md")
    return DemoResult(report, out, build_report(out), bench)
