"""The verb: ``search(model, SearchConfig(...), data=...) -> SearchResult``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ultralytics.utils import LOGGER, TQDM

from .. import offline
from ..core.config import PruneConfig, from_options
from ..core.latency import LatencyTable
from ..integrations.ultralytics.trainer import YOLO
from ..profiling.profile import LatencyMeter
from ..workflows.latency import LatencyCheck, check_for, measured_here, with_latency_table
from ..workflows.oneshot import latency_budget
from ..data.registry import resolve_dataset
from ..errors import ConfigError
from ..integrations.ultralytics.model_io import load_model
from ..io import run_dir
from ..logs import third_party_logs_to
from .config import SearchConfig
from .front import pareto, recommend
from .halving import Halving
from .record import SearchRecord
from .report import write_outputs
from .driver import Driver
from .runners import ray_modules, run_ray, run_sequential
from .sampler import Sampler
from .trial import Trial, TrialJob, TrialSpec, run_trial


@dataclass(frozen=True)
class SearchResult:
    run_dir: Path
    report_json: Path  # search.json
    report: SearchRecord
    checkpoint: Path | None  # the recommended trial's best.pt; None when no trial stayed within max_drop
    command: str  # what fine-tunes the recommendation fully

    @property
    def trials(self) -> list[Trial]:
        return list(self.report.trials)

    @property
    def front(self) -> list[Trial]:
        return pareto(self.report.trials)

    @property
    def recommended(self) -> Trial | None:
        return next((t for t in self.report.trials if t.index == self.report.recommended), None)


def search(model: str | Path, config: SearchConfig | None = None, *, data: str | Path | None = None,
           train_args: dict | None = None, project: str | Path = "runs/search", name: str = "exp",
           exist_ok: bool = False, resume: bool = False, **options) -> SearchResult:
    """Find the fastest pruned ``model`` within ``max_drop`` points of its validation mAP50-95 on ``data``.

    ``options`` are :class:`SearchConfig` fields when no ``config`` is given (both is an error); ``train_args`` go
    to every trial's Ultralytics training (``batch``, ``device``, ...). Writes ``search.json`` (after every change),
    ``pareto.png``, ``trials.md`` and ``search.log`` (the trials' full logs) into ``project/name``; ``resume=True``
    continues the search there (finished trials are kept, an interrupted one runs again; ``trials`` may grow).
    """
    offline.configure_if_requested()  # YOLOPRUNE_OFFLINE=1 only
    config = from_options(SearchConfig, config, options)
    if data is None:
        raise ConfigError("search needs data=<dataset name or data YAML> (trials are fine-tuned and validated on it)")
    if config.use_ray:
        ray_modules()  # one clear line naming the extra, before anything runs
    if not str(model).endswith(".pt"):
        raise ConfigError(f"model={model}: a search starts from a trained checkpoint (.pt): its accuracy is the budget")
    load_model(model)  # clear errors for a missing or corrupt file
    train_args = _own_args_out(train_args or {}, config.imgsz)
    folder = Path(project).resolve() / name
    if resume and not (folder / "search.json").exists():
        raise ConfigError(f"resume: no search.json in {folder}; give the project= and name= of the search")
    out = folder if resume else run_dir(project, name, exist_ok)
    data_yaml = str(Path(resolve_dataset(data)).resolve())  # absolute: Ray's trials run in folders of their own
    record = SearchRecord.open(out / "search.json", config, str(Path(model).resolve()), data_yaml)
    record.train_args = train_args
    record.trials = [t for t in record.trials if t.status != "running"]  # an interrupted trial runs again
    with third_party_logs_to(out / "search.log") as console:
        _run(record, config, train_args, run_trial, console)
    write_outputs(record)
    return _result(record)


def _run(record: SearchRecord, config: SearchConfig, train_args: dict, trial_fn, console) -> None:
    model, data, out = record.model, record.data, record.path.parent
    check = LatencyCheck(hardware=config.hardware, format=config.format, threads=config.threads, runs=config.runs)
    if config.latency_table:
        if not Path(config.latency_table).is_file():
            raise ConfigError(f"latency_table={config.latency_table}: no such file; give a table from "
                              "'yolo-prune profile', or leave it out to profile one")
        record.latency_table = str(Path(config.latency_table).resolve())
    if not record.latency_table or not Path(record.latency_table).exists():
        cut = PruneConfig(target="latency", amount=config.amounts[1], imgsz=config.imgsz)
        record.latency_table = with_latency_table(model, cut, check, data).latency_table
        record.save()
    table = LatencyTable.load(record.latency_table)
    if table.key.imgsz != config.imgsz:
        raise ConfigError(f"latency_table={record.latency_table} was measured at imgsz={table.key.imgsz}, the search "
                          f"runs at imgsz={config.imgsz}: give imgsz={table.key.imgsz}, or a table of this size")
    check_for(PruneConfig(target="latency", latency_table=record.latency_table, imgsz=config.imgsz), check)
    _reachable(table, config)
    if record.dense_map is None:
        record.dense_map = validate(model, data, config.imgsz, train_args, out / "val")
        record.save()
    meter = LatencyMeter(load_model(model)[0], config.format, config.imgsz, config.threads, config.runs,
                         data=data) if measured_here(table) else None

    def plan(spec: TrialSpec):
        cut = PruneConfig(target="latency", amount=spec.amount, criterion=spec.criterion, allocation=spec.allocation,
                          imgsz=config.imgsz, latency_table=record.latency_table, seed=config.seed)
        loop = latency_budget(model, cut, check, data)
        return loop["budget"], loop["measured"]

    def job(index: int, spec: TrialSpec, budget: float) -> TrialJob:
        return TrialJob(index, spec, model, data, str(out / "trials"), config.epochs, config.imgsz,
                        record.latency_table, budget, config.hardware, config.format, config.seed, train_args)

    desc = f"search: {config.trials} trials x {config.epochs} epochs"
    bar = TQDM(total=config.trials * config.epochs, desc=desc, file=console)
    bar.update(sum(config.epochs for t in record.trials))

    def progress(epochs: int) -> None:
        bar.update(epochs)
        best = recommend(record.trials, record.dense_map, config.target_drop)
        bar.set_description(f"{desc}, fastest within -{config.max_drop:g}: " +
                            (f"{1 / best.timed:.2f}x (trial {best.index})" if best else "none yet"))

    halving = Halving(config.rungs, config.eta, record.dense_map - config.target_drop)
    halving.replay(record.trials)
    driver = Driver(record, Sampler(config, record.dense_map), halving, plan,
                    lambda ckpt: meter.compare(ckpt) if meter else None, job, progress)
    if config.use_ray:
        run_ray(driver, config, out, trial_fn)
    else:
        run_sequential(driver, trial_fn)
    bar.close()
    best = recommend(record.trials, record.dense_map, config.target_drop)
    record.recommended = best.index if best else None
    record.recommended_map = validate(best.checkpoint, data, config.imgsz, train_args, out / "val") if best else None
    record.command = command_for(best, record) if best else ""
    if best and record.dense_map - record.recommended_map > config.target_drop + 1e-9:
        LOGGER.warning(f"yoloprune search: trial {best.index} validated again at {record.recommended_map:.4f}, beyond "
                       f"max_drop of the dense {record.dense_map:.4f} (its training validation said {best.map:.4f})")


def _own_args_out(train_args: dict, imgsz: int) -> dict:
    """The trials' Ultralytics arguments without those the search sets itself: one clear error for each."""
    clash = sorted(k for k in train_args if k in {"data", "epochs", "project", "name", "exist_ok", "resume", "model"})
    if clash:
        raise ConfigError(f"train_args {', '.join(clash)}: the search sets them for every trial (data=, epochs=, "
                          "project=, name= are the search's own)")
    if train_args.get("imgsz", imgsz) != imgsz:
        raise ConfigError(f"train_args imgsz={train_args['imgsz']} but the search's imgsz={imgsz}: set imgsz= once")
    return {k: v for k, v in train_args.items() if k != "imgsz"}


def validate(weights: str | Path, data: str, imgsz: int, train_args: dict, folder: Path) -> float:
    """Validation mAP50-95 of ``weights`` on ``data`` at ``imgsz`` (Ultralytics' ``val``)."""
    keep = {k: train_args[k] for k in ("batch", "device", "workers") if k in train_args}
    metrics = YOLO(str(weights)).val(data=data, imgsz=imgsz, split="val", plots=False, verbose=False,
                                     project=str(folder.parent), name=folder.name, exist_ok=True, **keep)
    return float(metrics.box.map)


def _reachable(table, config: SearchConfig) -> None:
    """One clear error when the fastest amount asked is below what pruning can reach by the table."""
    floor = table.floor_ms() / table.dense_ms if table.dense_ms else 0.0
    if floor > 0 and config.amounts[1] <= floor:
        raise ConfigError(f"amounts={config.amounts[0]:g},{config.amounts[1]:g}: by its latency table this model "
                          f"cannot get faster than {floor:.2f} of its latency; search amounts above it, e.g. "
                          f"amounts={min(floor + 0.1, 0.95):.2f},0.95")


def command_for(trial: Trial, record: SearchRecord) -> str:
    """The command that fine-tunes ``trial``'s recipe fully (``final_epochs``)."""
    c, s = record.config, trial.spec
    common = (f"data={record.data} target=latency amount={s.amount:g} criterion={s.criterion} "
              f"allocation={s.allocation} hardware={c.hardware} format={c.format} imgsz={c.imgsz}")
    if s.schedule == "progressive":
        distill = " distill=native" if s.distill == "native" else ""
        return f"yolo-prune prune model={record.model} {common}{distill} epochs={c.final_epochs}"
    teacher = f" teacher={record.model} distill=native" if s.distill == "native" else ""
    return (f"yolo-prune prune model={record.model} {common} name=search-cut exist_ok=True && yolo-prune finetune "
            f"model=runs/prune/search-cut/pruned.pt data={record.data} imgsz={c.imgsz} epochs={c.final_epochs}{teacher}")


def _result(record: SearchRecord) -> SearchResult:
    best = next((t for t in record.trials if t.index == record.recommended), None)
    out = record.path.parent
    if best is None:
        top = max((t for t in record.trials if t.map is not None), key=lambda t: t.map, default=None)
        LOGGER.warning(f"yoloprune search: no trial ended within {record.config.max_drop:g} points of the dense model's "
                       f"mAP50-95 ({record.dense_map:.4f})" + (f"; the closest, trial {top.index}, reached "
                       f"{top.map:.4f} at {top.timed:.3f} of its latency" if top and top.timed else "") +
                       ": allow more epochs=, a larger max_drop= or higher amounts=")
    else:
        LOGGER.info(f"yoloprune search: trial {best.index} is {1 / best.timed:.2f}x faster at mAP50-95 "
                    f"{record.recommended_map:.4f} (dense {record.dense_map:.4f}): {best.checkpoint}\n"
                    f"fine-tune it fully with:\n  {record.command}")
    return SearchResult(out, record.path, record, Path(best.checkpoint) if best else None, record.command)
