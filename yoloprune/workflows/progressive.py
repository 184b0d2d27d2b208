"""Pruning while training: Ultralytics' ``train`` with the pruning callbacks, and resuming such a run."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from ultralytics.utils import LOGGER

from .. import offline
from ..core.config import ProgressiveConfig, from_options
from ..core.stats import ModelStats, conv_widths
from ..data.registry import resolve_dataset
from ..errors import ConfigError
from ..callbacks import PruningCallbacks, add_pruning_callbacks
from ..integrations.ultralytics.model_io import load_model
from ..integrations.ultralytics.trainer import YOLO
from ..io import write_json_atomic
from .latency import LatencyCheck, check_for, with_latency_table
from .oneshot import latency_budget
from .legacy import config_and_data


@dataclass(frozen=True)
class ProgressiveSummary:
    """What a progressive run did (``prune.json``): dense vs final size, the steps and per-layer widths."""

    dense: ModelStats
    pruned: ModelStats
    criterion: str
    config: dict
    imgsz: int
    epochs: int
    history: list = field(default_factory=list)  # one entry per prune step
    source: str = ""
    checkpoint: str = ""
    layers: list = field(default_factory=list)  # {"name", "before", "after"} output channels per conv
    latency: dict | None = None  # target=latency: the closed loop on the dense model that set the planned budget

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ProgressiveResult:
    run_dir: Path
    checkpoint: Path  # weights/best.pt (weights/last.pt when no epoch was validated)
    report_json: Path  # prune.json
    report: ProgressiveSummary

    @property
    def summary(self) -> ProgressiveSummary:
        """The run's :class:`ProgressiveSummary` (``report``: every verb's result names its record so)."""
        return self.report


def prune_progressive(model: str | Path, config: ProgressiveConfig | None = None, *legacy, data: str | Path | None = None,
                      epochs: int, train_args: dict | None = None, project: str | Path = "runs/prune",
                      name: str = "exp", exist_ok: bool = False, check: LatencyCheck | None = None,
                      callbacks: dict | None = None, **options) -> ProgressiveResult:
    """Train ``model`` on ``data`` for ``epochs`` with the pruning callbacks: the schedule in ``config``
    prunes during training and the rest of the run is the fine-tune stage.

    ``options`` are the flat fields of :class:`ProgressiveConfig` and its :class:`PruneConfig` when no
    ``config`` is given (both is an error); ``train_args`` go to Ultralytics' ``train`` unchanged
    (``batch``, ``lr0``, ``device``, ...). ``target=latency`` without a ``latency_table`` profiles one first
    for ``check``'s hardware and format (:class:`LatencyCheck`; default OpenVINO FP32 on this CPU).
    ``callbacks`` (``{event: function}``, Ultralytics' events) run besides the pruning callbacks.
    """
    offline.configure_if_requested()  # YOLOPRUNE_OFFLINE=1 only
    config, data = config_and_data("prune_progressive", config, legacy, data)
    config = from_options(ProgressiveConfig, config, options)
    if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 1:
        raise ConfigError(f"epochs={epochs!r}: pruning while training needs epochs >= 1")
    if data is None:
        raise ConfigError("pruning while training needs data=<dataset name or data YAML>")
    train_args = _own_args_out(train_args or {}, config.prune.imgsz)
    load_model(model)  # clear errors for a missing / corrupt / unsupported model before training starts
    train_args = _native_teacher(model, config, train_args)
    latency = None
    if config.prune.target == "latency":  # the table's bias corrected once, on the dense model, before training
        check = check_for(config.prune, check)
        latency = latency_budget(model, config.prune, check, data)  # profiles (or finds) the table on the way
        config = replace(config, prune=replace(config.prune, latency_table=latency["latency_table"]))
        asked, measured = latency["asked"], latency["measured"]
        if measured is not None and abs(measured - asked) > check.tolerance * asked:
            LOGGER.warning(f"yoloprune: the closed loop on the dense model came no closer than {measured:.3f} of its "
                           f"latency (asked {asked}); the run plans for its best budget, {latency['budget']:.3f}")
        if latency["budget"] != asked:
            LOGGER.info(f"yoloprune: the run plans its widths for {latency['budget']:.3f} of the table's dense latency "
                        f"(measured {measured:.3f} on the dense model pruned so; asked {asked}); prune.json keeps "
                        "both under latency")
            config = replace(config, prune=replace(config.prune, amount=round(latency["budget"], 4)))
    else:
        config = replace(config, prune=with_latency_table(model, config.prune, check or LatencyCheck(), data))
    yolo = YOLO(str(model))
    pruning = add_pruning_callbacks(yolo, config)
    pruning.latency = latency  # in every checkpoint's schedule state: a resumed run reports it too
    for event, fn in (callbacks or {}).items():
        yolo.add_callback(event, fn)
    out = Path(project).resolve()  # relative to the working directory, like one-shot runs
    with _interrupt_hint(yolo):
        yolo.train(data=str(resolve_dataset(data)), epochs=epochs, imgsz=config.prune.imgsz, project=str(out),
                   name=name, exist_ok=exist_ok, **train_args)
    return _result(yolo, pruning, model)


def _own_args_out(train_args: dict, imgsz: int) -> dict:
    """``train_args`` without the ones this verb sets itself: ``imgsz`` equal to the prune config's is dropped,
    any other (or another image size) is one clear error instead of a TypeError from deep inside Ultralytics."""
    clash = sorted(k for k in train_args if k in {"data", "epochs", "project", "name", "exist_ok"})
    if clash:
        raise ConfigError(f"train_args {', '.join(clash)}: give them to prune_progressive itself "
                          f"(prune_progressive(model, {', '.join(f'{k}=...' for k in clash)})), not in train_args")
    if "imgsz" in train_args and train_args["imgsz"] != imgsz:
        raise ConfigError(f"train_args imgsz={train_args['imgsz']} but the prune config's imgsz={imgsz}: the run trains "
                          "at the size it prunes for, so set imgsz= once, in the config")
    return {k: v for k, v in train_args.items() if k != "imgsz"}


def _native_teacher(model: str | Path, config: ProgressiveConfig, train_args: dict) -> dict:
    """``distill=native``: Ultralytics' own distillation with the dense checkpoint being pruned as its teacher
    (``distill_model=``), unless ``train_args`` name another."""
    if config.distill != "native" or train_args.get("distill_model"):
        return train_args
    if not str(model).endswith(".pt"):
        raise ConfigError(f"distill=native distils the trained checkpoint into the pruned model, but {model} is not "
                          "one: give model=<trained .pt>, or distill=both (the dense model as trained so far teaches)")
    return {**train_args, "distill_model": str(model)}


def resume(last: str | Path) -> ProgressiveResult:
    """Continue an interrupted progressive run from its ``weights/last.pt`` with the schedule recorded in it."""
    offline.configure_if_requested()  # YOLOPRUNE_OFFLINE=1 only
    net, ckpt = load_model(last)
    state = getattr(net, "yoloprune", None) or {}
    if "history" not in state or "config" not in state:
        raise ConfigError(f"{last} was not written by a yolo-prune training run (no schedule inside): "
                          "resume=... takes the weights/last.pt of an interrupted 'yolo-prune prune ... epochs=N' run")
    if ckpt.get("epoch", -1) == -1:
        raise ConfigError(f"{last} is from a run that already finished: nothing to resume "
                          "(start a new run with model=<that checkpoint> to train further)")
    yolo = YOLO(str(last))
    callbacks = add_pruning_callbacks(yolo, ProgressiveConfig.of(**state["config"]))
    with _interrupt_hint(yolo):
        yolo.train(resume=True)
    return _result(yolo, callbacks, state.get("source", last))


class _interrupt_hint:
    """On Ctrl-C, say where the last good checkpoint is and how to resume, then let the interrupt through."""

    def __init__(self, yolo):
        self.yolo = yolo

    def __enter__(self):
        return self

    def __exit__(self, kind, *_):
        trainer = getattr(self.yolo, "trainer", None)
        last = Path(trainer.last) if trainer is not None else None
        if kind is KeyboardInterrupt and last is not None and last.exists():
            LOGGER.warning(f"yoloprune: interrupted; last good checkpoint {last}. "
                           f"Resume with: yolo-prune prune resume={last}")
        return False


def _result(yolo, callbacks: PruningCallbacks, model) -> ProgressiveResult:
    run = Path(yolo.trainer.save_dir)
    best = Path(yolo.trainer.best) if Path(yolo.trainer.best).exists() else Path(yolo.trainer.last)
    final = callbacks.history[-1] if callbacks.history else {"params": None, "macs": None}
    before, after = callbacks.dense.get("widths") or {}, conv_widths(load_model(best)[0])
    summary = ProgressiveSummary(
        dense=ModelStats(callbacks.dense["params"], callbacks.dense["macs"]),
        pruned=ModelStats(final["params"], final["macs"]),
        criterion=callbacks.config.prune.criterion, config=callbacks.config.to_dict(),
        imgsz=callbacks.config.prune.imgsz, epochs=yolo.trainer.epochs, history=callbacks.history,
        source=str(model), checkpoint=str(best),
        layers=[{"name": n, "before": w, "after": after.get(n, 0)} for n, w in before.items()],
        latency=callbacks.latency,
    )
    report_json = write_json_atomic(summary.to_dict(), run / "prune.json")
    return ProgressiveResult(run, best, report_json, summary)
