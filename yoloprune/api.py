"""Python API mirroring the CLI: ``prune`` a checkpoint or YAML into a run folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .atomic import write_json_atomic
from .config import PruneConfig


@dataclass
class PruneResult:
    run_dir: Path
    checkpoint: Path
    report_json: Path
    report: "object"  # engine.PruneReport


def _dataset_classes(data) -> int | None:
    """Class count of a dataset (a model built from a YAML for it gets that many outputs), or None."""
    if data is None:
        return None
    from .batches import load_dataset  # noqa: PLC0415

    return int(load_dataset(data)["nc"])


def run_dir(project: str | Path, name: str, exist_ok: bool = False) -> Path:
    """Ultralytics' convention: ``project/name``, or ``name2``, ``name3``... unless ``exist_ok``."""
    from ultralytics.utils.files import increment_path  # noqa: PLC0415

    return Path(increment_path(Path(project).resolve() / name, exist_ok=exist_ok, mkdir=True))


def prune(
    model: str | Path,
    data: str | Path | None = None,
    config: PruneConfig | None = None,
    project: str | Path = "runs/prune",
    name: str = "exp",
    exist_ok: bool = False,
    epochs: int = 0,
    train_args: dict | None = None,
    resume: bool = False,
    **options,
) -> PruneResult:
    """Prune ``model`` (a ``.pt`` or ``.yaml``); write ``pruned.pt`` (or ``weights/best.pt``) and ``prune.json``.

    ``epochs=0`` prunes one-shot. ``epochs > 0`` trains with the pruning callbacks: the schedule in
    ``config`` (``steps``, ``schedule``, ``start_epoch``, ...) prunes during training and the rest is
    the fine-tune stage; ``train_args`` go to Ultralytics' ``train`` (``batch``, ``lr0``, ...).
    ``resume=True`` continues an interrupted run from its ``weights/last.pt`` given as ``model`` (the
    schedule, config and training arguments come from that checkpoint).

    ``options`` are :class:`PruneConfig` fields (``criterion``, ``target``, ``amount``, ...) when
    ``config`` is not given. ``data`` (a dataset name such as ``shapes`` or a data YAML) feeds the
    criteria that need real batches.
    """
    from . import offline  # noqa: PLC0415

    offline.configure_if_requested()
    from .batches import detection_batches  # noqa: PLC0415
    from .checkpoint import load_model, save_pruned  # noqa: PLC0415
    from .engine import prune_  # noqa: PLC0415
    from .importance import CRITERIA  # noqa: PLC0415

    if resume:
        return _resume(model)
    config = config or PruneConfig(**options)
    config.validate()
    if epochs > 0:
        return _prune_while_training(model, data, config, project, name, exist_ok, epochs, train_args or {})
    config = config.resolved(has_data=data is not None)  # criterion=auto: taylor_raw when data is given
    net, ckpt = load_model(model, nc=_dataset_classes(data) if str(model).endswith((".yaml", ".yml")) else None)
    batches = None
    if CRITERIA[config.criterion].needs_gradients:
        from .errors import ConfigError  # noqa: PLC0415

        if data is None:
            raise ConfigError(f"criterion {config.criterion!r} needs real data: add data=<dataset name or YAML>")
        batches = detection_batches(data, imgsz=min(config.imgsz, 320))
    report = prune_(net, config, batches=batches)
    out = run_dir(project, name, exist_ok)
    meta = {"config": config.to_dict(), "report": report.to_dict()}
    train_args = {k: v for k, v in (ckpt.get("train_args") or {}).items() if k in {"model", "data", "imgsz", "task"}}
    checkpoint = save_pruned(net, out / "pruned.pt", source=model, meta=meta, train_args=train_args)
    summary = {**report.to_dict(), "source": str(model), "checkpoint": str(checkpoint)}
    report_json = write_json_atomic(summary, out / "prune.json")
    return PruneResult(out, checkpoint, report_json, report)


def _prune_while_training(model, data, config, project, name, exist_ok, epochs, train_args) -> PruneResult:
    from .callbacks import add_pruning_callbacks  # noqa: PLC0415
    from .checkpoint import load_model  # noqa: PLC0415
    from .data import resolve_dataset  # noqa: PLC0415
    from .errors import ConfigError  # noqa: PLC0415
    from .trainer import YOLO  # noqa: PLC0415

    if data is None:
        raise ConfigError("pruning while training (epochs > 0) needs data=<dataset name or data YAML>")
    load_model(model)  # clear errors for a missing / corrupt / unsupported model before training starts
    yolo = YOLO(str(model))
    callbacks = add_pruning_callbacks(yolo, config)
    out = Path(project).resolve()  # relative to the working directory, like one-shot runs
    with _interrupt_hint(yolo):
        yolo.train(data=str(resolve_dataset(data)), epochs=epochs, imgsz=config.imgsz, project=str(out), name=name,
                   exist_ok=exist_ok, **train_args)
    return _progressive_result(yolo, callbacks, model, config)


def _resume(last) -> PruneResult:
    """Continue an interrupted progressive run from its ``last.pt`` with the schedule recorded in it."""
    from .callbacks import add_pruning_callbacks  # noqa: PLC0415
    from .checkpoint import load_model  # noqa: PLC0415
    from .errors import ConfigError  # noqa: PLC0415
    from .trainer import YOLO  # noqa: PLC0415

    net, ckpt = load_model(last)
    state = getattr(net, "yoloprune", None) or {}
    if "history" not in state or "config" not in state:
        raise ConfigError(f"{last} was not written by a yolo-prune training run (no schedule inside): "
                          "resume=... takes the weights/last.pt of an interrupted 'yolo-prune prune ... epochs=N' run")
    if ckpt.get("epoch", -1) == -1:
        raise ConfigError(f"{last} is from a run that already finished: nothing to resume "
                          "(start a new run with model=<that checkpoint> to train further)")
    config = PruneConfig(**state["config"])
    yolo = YOLO(str(last))
    callbacks = add_pruning_callbacks(yolo, config)
    with _interrupt_hint(yolo):
        yolo.train(resume=True)
    return _progressive_result(yolo, callbacks, state.get("source", last), config)


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
            from ultralytics.utils import LOGGER  # noqa: PLC0415

            LOGGER.warning(f"yoloprune: interrupted; last good checkpoint {last}. "
                           f"Resume with: yolo-prune prune resume={last}")
        return False


def _progressive_result(yolo, callbacks, model, config) -> PruneResult:
    run = Path(yolo.trainer.save_dir)
    best = Path(yolo.trainer.best) if Path(yolo.trainer.best).exists() else Path(yolo.trainer.last)
    final = callbacks.history[-1] if callbacks.history else {"params": None, "macs": None}
    from .checkpoint import load_model  # noqa: PLC0415
    from .engine import conv_widths  # noqa: PLC0415

    before, after = callbacks.dense.get("widths") or {}, conv_widths(load_model(best)[0])
    summary = {
        "dense": {"params": callbacks.dense["params"], "macs": callbacks.dense["macs"]},
        "pruned": {"params": final["params"], "macs": final["macs"]},
        "criterion": callbacks.config.criterion, "config": callbacks.config.to_dict(), "imgsz": config.imgsz, "epochs": yolo.trainer.epochs,
        "history": callbacks.history, "source": str(model), "checkpoint": str(best),
        "layers": [{"name": n, "before": w, "after": after.get(n, 0)} for n, w in before.items()],
    }
    report_json = write_json_atomic(summary, run / "prune.json")
    return PruneResult(run, best, report_json, summary)
