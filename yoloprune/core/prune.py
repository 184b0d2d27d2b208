"""The pruning verb: ``prune_(model, config)`` prunes an Ultralytics detector in place and reports it."""

from __future__ import annotations

import time
from copy import deepcopy
from dataclasses import asdict, dataclass, field
from itertools import islice
from typing import Callable, Iterable

import numpy as np
import torch
from torch import nn

from ultralytics.cfg import get_cfg
from ultralytics.nn.tasks import DetectionModel
from ultralytics.utils import LOGGER

from ..errors import ConfigError
from .allocation import Allocator, CostModel
from .config import PruneConfig, needs_latency_table
from .criteria import CRITERIA, build_criterion
from .graph import check_supported, traced
from .modes import model_mode
from .plan import WidthPlan, partners
from .stats import ModelStats, conv_widths, model_stats


@dataclass
class PruneReport:
    """What a prune did: dense vs pruned size, per-layer widths, criterion and time taken."""

    config: dict
    imgsz: int
    dense: ModelStats
    pruned: ModelStats
    layers: list[dict] = field(default_factory=list)  # {"name", "before", "after"} output channels per conv
    seconds: float = 0.0
    achieved: float = 0.0  # the target's measure: removed channel fraction (ratio) or kept MACs / params fraction

    @property
    def criterion(self) -> str:
        return self.config["criterion"]

    @property
    def macs_kept(self) -> float:
        return self.pruned.macs / self.dense.macs

    @property
    def params_kept(self) -> float:
        return self.pruned.params / self.dense.params

    def to_dict(self) -> dict:
        d = asdict(self)
        d.update(criterion=self.criterion, macs_kept=self.macs_kept, params_kept=self.params_kept)
        return d


def accumulate_gradients(model: nn.Module, batches: Iterable[dict], limit: int) -> int:
    """Sum loss gradients over ``limit`` preprocessed Ultralytics batches (BN statistics untouched); return count."""
    if not hasattr(getattr(model, "args", None), "box"):  # the loss reads hyper-parameters as attributes
        model.args = get_cfg(overrides={k: v for k, v in dict(getattr(model, "args", {}) or {}).items() if k != "cfg"})
    model.zero_grad(set_to_none=True)
    device = next(model.parameters()).device  # a model on a GPU scored with batches from a CPU loader
    seen = 0
    # eval-mode BatchNorm everywhere, raw head outputs for the loss; frozen parameters (a best.pt's EMA
    # weights, the DFL) get gradients for the block
    with model_mode(model, training=False, grads=True):
        model.model[-1].training = True
        try:
            for batch in islice(batches, limit):
                batch = {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}
                loss, _ = model.loss(batch)
                loss.sum().backward()
                seen += 1
        finally:
            model.criterion = None  # never pickle the loss with the model
    return seen


def _scored_graph(pg, model: nn.Module, config: PruneConfig, batches, dense: ModelStats | None = None,
                  planned: bool = False) -> tuple:
    """Score every prunable group of the traced ``pg``; return (groups, allocator, names). ``planned``: the widths
    are given, not searched (the model may be pruned already)."""
    spec = CRITERIA[config.criterion]
    if spec.needs_gradients:
        if batches is None or accumulate_gradients(model, batches, config.taylor_batches) == 0:
            raise ConfigError(f"criterion {config.criterion!r} needs real data: pass data=<dataset> (or batches=)")
    importance = build_criterion(config.criterion)
    torch.manual_seed(config.seed)
    scores, groups = [], []
    for group in pg.groups:
        score = importance(group)
        if score is not None:
            scores.append(score)
            groups.append(group)
    if len(groups) != len(pg.groups):  # a criterion may not score some groups (no BN for bn_scale)
        kept = {id(g): i for i, g in enumerate(groups)}
        old = {i: kept.get(id(g)) for i, g in enumerate(pg.groups)}
        pg.pairs = [(old[a], old[b]) for a, b in pg.pairs if old[a] is not None and old[b] is not None]
    dense = dense or model_stats(model, config.imgsz)
    cost = CostModel(model, pg.dg, groups, config.imgsz, dense.macs * 1e9, dense.params)
    module_names = {m: n for n, m in model.named_modules()}
    names = [module_names[g[0][0].target.module] for g in groups]  # a group is named by its root conv
    return groups, Allocator(scores, pg.pairs, cost, config, names, planned), names


def plan_pruning(model: nn.Module, config: PruneConfig, batches: Iterable[dict] | None = None) -> WidthPlan:
    """The current and planned channels of every prunable group (keyed by its root conv's name).

    Nothing is pruned; ``final`` is what ``prune_`` would keep. Progressive pruning plans the final
    architecture once, on the dense model, and then walks every group towards its planned width;
    re-planning at every step compounds (each step's global ranking sees the previous step's cuts, so
    thin layers keep shrinking).
    """
    check_supported(model, "plan_pruning")
    needs_latency_table(config, "plan_pruning")
    config = config.resolved(batches is not None)
    with traced(model, config.skip) as pg:
        _, allocator, names = _scored_graph(pg, model, config, batches)
        keep = allocator.search()
    return WidthPlan(dense={name: int(n) for name, n in zip(names, allocator.n)},
                     final={name: int(k) for name, k in zip(names, keep)})


def group_widths(model: nn.Module, skip=()) -> dict[str, int]:
    """The current channel count of every prunable group, keyed like :class:`WidthPlan`."""
    return group_layout(model, skip).widths


@dataclass(frozen=True)
class GroupLayout:
    """Every prunable group's current width, and the pairs of groups that must keep equal widths (the two
    halves of a split block: stock C2f / C3k2 / C2PSA need them equal)."""

    widths: dict[str, int]
    pairs: tuple[tuple[str, str], ...]

    @property
    def partner(self) -> dict[str, str]:
        """Each split-block half's twin, both ways."""
        return partners(self.pairs)

    def with_width(self, name: str, width: int, base: dict[str, int] | None = None) -> dict[str, int]:
        """``base`` (default: these widths) with group ``name`` — and its split-block twin — at ``width``."""
        widths = {**(base or self.widths), name: width}
        twin = self.partner.get(name)
        if twin is not None:
            widths[twin] = width
        return widths


def group_layout(model: nn.Module, skip=()) -> GroupLayout:
    """The model's :class:`GroupLayout` (traced on the model as it is; nothing is pruned)."""
    with traced(model, skip) as pg:
        module_names = {m: n for n, m in model.named_modules()}
        names = [module_names[g[0][0].target.module] for g in pg.groups]
        widths = {name: len(g[0][1]) for name, g in zip(names, pg.groups)}
    return GroupLayout(widths, tuple((names[a], names[b]) for a, b in pg.pairs))


def pruned_to(model: nn.Module, widths: dict[str, int], imgsz: int) -> nn.Module:
    """A pruned copy of ``model`` with exactly these group widths (``l2`` picks which channels go)."""
    net = deepcopy(model)
    prune_(net, PruneConfig(criterion="l2", imgsz=imgsz, round_to=1), widths=widths)
    return net


def prune_(
    model: nn.Module,
    config: PruneConfig,
    batches: Iterable[dict] | None = None,
    sync: Callable[[list], list] | None = None,
    widths: dict[str, int] | None = None,
    on_removed: Callable[[dict[nn.Module, list[int]]], None] | None = None,
) -> PruneReport:
    """Prune ``model`` (a ``DetectionModel`` or ``YOLO``) in place to ``config``'s target; return the report.

    ``batches`` — preprocessed Ultralytics training batches (``img`` float in [0, 1], ``cls``,
    ``bboxes``, ``batch_idx``) — are required by criteria that need gradients (``taylor``, ``taylor_raw``).
    ``sync`` maps the chosen per-group indices of removed channels to the ones to apply — under DDP, rank 0's
    (see ``yoloprune.core.distributed.from_rank0``) so every rank prunes identically.
    ``widths`` (e.g. ``WidthPlan.final`` or ``.at(step, ...)``, keyed by group) fixes how many channels each group keeps
    instead of searching for ``config``'s target; the criterion still picks which channels go.
    ``on_removed`` is called once the channels are gone with, for every module that lost output channels, the
    indices it lost (in its channel order before the step): for what reads those outputs from outside the model
    (a distillation projector).
    """
    if isinstance(getattr(model, "model", None), DetectionModel):  # a YOLO(...) object: prune the module it wraps
        model = model.model
    if not isinstance(model, nn.Module):
        raise ConfigError(f"prune_ expects an Ultralytics DetectionModel or YOLO object, got {type(model).__name__}")
    check_supported(model, "prune_")
    needs_latency_table(config, "prune_")
    config = config.resolved(batches is not None)
    start = time.perf_counter()
    dense = model_stats(model, config.imgsz)
    before = conv_widths(model)

    with traced(model, config.skip) as pg:  # stock again when this block ends, pruned or not
        groups, allocator, names = _scored_graph(pg, model, config, batches, dense, planned=widths is not None)
        if widths is not None:
            if set(widths) != set(names):
                raise ConfigError(f"the width plan names other layer groups than this model has "
                                  f"({sorted(set(widths) ^ set(names))[:4]}...): plan on this model (plan_pruning)")
            keep = np.array([min(int(widths[name]), n) for name, n in zip(names, allocator.n)])
        else:
            keep = allocator.search()
        predicted = allocator.measure(keep)
        removed = allocator.removed_channels(keep)
        if sync is not None:
            removed = sync(removed)
        lost: dict[nn.Module, set[int]] = {}
        for group, idxs in zip(groups, removed):
            if idxs:
                root = group[0][0]
                applied = pg.dg.get_pruning_group(root.target.module, root.handler, idxs)
                for dep, dep_idxs in applied if on_removed is not None else ():
                    if pg.dg.is_out_channel_pruning_fn(dep.handler):
                        lost.setdefault(dep.target.module, set()).update(int(i) for i in dep_idxs)
                applied.prune()
    if on_removed is not None:
        on_removed({m: sorted(i) for m, i in lost.items()})

    pruned = model_stats(model, config.imgsz)
    after = conv_widths(model)
    report = PruneReport(
        config=config.to_dict(),
        imgsz=config.imgsz,
        dense=dense,
        pruned=pruned,
        layers=[{"name": n, "before": before[n], "after": after.get(n, 0)} for n in before],
        seconds=time.perf_counter() - start,
    )
    report.achieved = {"macs": report.macs_kept, "params": report.params_kept}.get(config.target, predicted)
    LOGGER.info(
        f"yoloprune: {config.criterion} {config.target}={config.amount} -> params {dense.params:,} -> {pruned.params:,} "
        f"({report.params_kept:.1%}), MACs {dense.macs:.3f}G -> {pruned.macs:.3f}G ({report.macs_kept:.1%}) "
        f"in {report.seconds:.1f}s"
    )
    return report
