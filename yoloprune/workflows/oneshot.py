"""One-shot pruning: a ``.pt`` or ``.yaml`` in, ``pruned.pt`` + ``prune.json`` in a run folder out."""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from ultralytics.utils import LOGGER

from .. import offline
from ..core.config import PruneConfig, from_options
from ..core.criteria import CRITERIA
from ..core.latency import LatencyTable, close_loop
from ..core.prune import PruneReport, prune_
from ..data.loaders import dataset_classes, detection_batches
from ..errors import ConfigError
from ..profiling.profile import LatencyMeter
from .latency import LatencyCheck, check_for, measured_here, with_latency_table
from ..integrations.ultralytics.model_io import deployment_args, load_model, save_pruned
from ..io import run_dir, write_json_atomic


@dataclass(frozen=True)
class OneShotResult:
    run_dir: Path
    checkpoint: Path  # pruned.pt
    report_json: Path  # prune.json
    report: PruneReport
    latency: dict | None = None  # target=latency: asked vs predicted vs measured (and each closed-loop iteration)


def prune(model: str | Path, config: PruneConfig | None = None, *, data: str | Path | None = None,
          project: str | Path = "runs/prune", name: str = "exp", exist_ok: bool = False,
          check: LatencyCheck | None = None, **options) -> OneShotResult:
    """Prune ``model`` (a ``.pt`` or ``.yaml``) once to ``config``'s target; write ``pruned.pt`` and ``prune.json``.

    ``options`` are :class:`PruneConfig` fields (``criterion``, ``target``, ``amount``, ...) when no
    ``config`` is given (both is an error). ``data`` (a dataset name such as ``shapes`` or a data YAML)
    feeds the criteria that need real batches, and sets the class count of a model built from a YAML.
    ``target=latency`` keeps ``amount`` of the dense model's latency where ``check`` says
    (:class:`LatencyCheck`: by default OpenVINO FP32 on this CPU, or where the config's ``latency_table``
    was measured): the table is profiled (once, then cached) unless ``latency_table=`` names one, the prune
    cuts where it predicts ``amount``, and on this machine the result is measured and the budget corrected
    until it holds.
    """
    offline.configure_if_requested()  # YOLOPRUNE_OFFLINE=1 only; otherwise the user's Ultralytics setup stays
    config = from_options(PruneConfig, config, options).resolved(has_data=data is not None)
    is_yaml = str(model).endswith((".yaml", ".yml"))
    nc = dataset_classes(data) if is_yaml else None
    if CRITERIA[config.criterion].needs_gradients and data is None:
        raise ConfigError(f"criterion {config.criterion!r} needs real data: add data=<dataset name or YAML>")

    pruned = _pruner(model, nc, data)
    latency = None
    if config.target == "latency":
        check = check_for(config, check)
        config = with_latency_table(model, config, check, data)
        net, ckpt, report, latency = _latency_loop(model, nc, config, check, pruned, data)
    else:
        if check is not None:
            with_latency_table(model, config, check, data)  # refuses what only a latency target reads
        net, ckpt, report = pruned(config)
    out = run_dir(project, name, exist_ok)
    meta = {"config": config.to_dict(), "report": report.to_dict(), **({"latency": latency} if latency else {})}
    checkpoint = save_pruned(net, out / "pruned.pt", source=model, meta=meta, train_args=deployment_args(ckpt))
    summary = {**report.to_dict(), **({"latency": latency} if latency else {}), "source": str(model),
               "checkpoint": str(checkpoint)}
    report_json = write_json_atomic(summary, out / "prune.json")
    return OneShotResult(out, checkpoint, report_json, report, latency)


def _pruner(model, nc, data):
    """``pruned(cfg) -> (net, ckpt, report)``: a fresh copy of ``model`` pruned to ``cfg``."""
    def pruned(cfg: PruneConfig):
        net, ckpt = load_model(model, nc=nc)
        batches = detection_batches(data, imgsz=min(cfg.imgsz, 320)) if CRITERIA[cfg.criterion].needs_gradients else None
        return net, ckpt, prune_(net, cfg, batches=batches)
    return pruned


def latency_budget(model: str | Path, config: PruneConfig, check: LatencyCheck | None = None, data=None) -> dict:
    """The closed loop of ``target=latency`` on the dense ``model``, keeping nothing but its record: asked,
    predicted, measured, every iteration and ``budget``, the amount to ask the table for so that the measured
    latency is the asked one (the asked amount itself where the table was measured on another device: nothing is
    pruned or measured then), and ``latency_table``, the table's file. A progressive run plans its final widths with
    that budget; so can callbacks added to your own training (``PruneConfig(amount=budget, latency_table=...)``). ``check`` and the table as for
    :func:`prune`; ``data`` feeds the criteria that need real batches."""
    if config.target != "latency":
        raise ConfigError(f"latency_budget corrects a target=latency amount; this config has target={config.target}")
    config = config.resolved(has_data=data is not None)
    if CRITERIA[config.criterion].needs_gradients and data is None:
        raise ConfigError(f"criterion {config.criterion!r} needs real data: add data=<dataset name or YAML>")
    check = check_for(config, check)
    if not config.latency_table:
        config = with_latency_table(model, config, check, data)
    table = LatencyTable.load(config.latency_table)
    if not measured_here(table) or not check.closed_loop:
        return {"asked": config.amount, "table": asdict(table.key), "latency_table": config.latency_table,
                "predicted": None, "measured": None, "budget": config.amount,
                "check": ("not measured: closed_loop=False" if measured_here(table)
                          else f"not measured: the table is the {table.key.hardware}'s")}
    nc = dataset_classes(data) if str(model).endswith((".yaml", ".yml")) else None
    return {**_latency_loop(model, nc, config, check, _pruner(model, nc, data), data)[3],
            "latency_table": config.latency_table}


def _latency_loop(model, nc, config: PruneConfig, check: LatencyCheck, pruned, data):
    """Asked vs predicted vs measured; re-solve with a corrected budget while the measurement misses.

    The prediction is the prune's own ``report.achieved`` (the table's estimate for the widths it chose).
    """
    table = LatencyTable.load(config.latency_table)
    asked = config.amount
    record = {"asked": asked, "table": asdict(table.key), "table_mape": table.validation.mape if table.validation else None}
    where = table.key.hardware
    if not measured_here(table) or not check.closed_loop:
        net, ckpt, report = pruned(config)
        record.update(predicted=report.achieved, measured=None, budget=asked,
                      check=("not measured: closed_loop=False" if measured_here(table) else
                             f"the closed-loop check must run on the {where} (its device bundle's benchmark)"))
        return net, ckpt, report, record
    meter = LatencyMeter(load_model(model, nc=nc)[0], check.format, config.imgsz, check.threads, check.runs, data=data)

    def solve(budget):
        net, ckpt, report = pruned(replace(config, amount=budget))
        return (net, ckpt, report), report.achieved

    solves = itertools.count(1)  # numbers the measurements (one per solve) on the console

    def measure(result):
        speed = meter.compare(result[0])
        LOGGER.info(f"yoloprune: closed loop {next(solves)}/{check.iterations}: latency asked {asked:.3f} of dense, "
                    f"measured {speed['ratio']:.3f} ({speed['dense_ms']:.2f} -> {speed['pruned_ms']:.2f} ms with "
                    f"{check.format})")
        return speed["ratio"]

    (net, ckpt, report), best, iterations = close_loop(asked, solve, measure, check.tolerance, check.iterations)
    record.update(predicted=best["predicted"], measured=best["measured"], budget=best["budget"], iterations=iterations,
                  check=f"measured here with {check.format}, {check.threads} threads, {check.runs} interleaved runs")
    return net, ckpt, report, record
