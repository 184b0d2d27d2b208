"""The cost model and the allocator, without pruning anything: predicted costs are exact, and the search
meets MACs / params / ratio targets at the rounded widths it is allowed to choose."""

import numpy as np
import pytest
import torch

from models import IMGSZ, SUPPORTED, build
from yoloprune.core.adapters import to_stock
from yoloprune.core.allocation import Allocator, CostModel
from yoloprune.core.config import PruneConfig
from yoloprune.core.graph import build_graph
from yoloprune.core.prune import prune_
from yoloprune.core.stats import model_stats


def _allocator(model, config):
    pg = build_graph(model, skip=config.skip)
    dense = model_stats(model, config.imgsz)
    cost = CostModel(model, pg.dg, pg.groups, config.imgsz, dense.macs * 1e9, dense.params)
    scores = [torch.rand(len(g[0][1]), generator=torch.Generator().manual_seed(i)) for i, g in enumerate(pg.groups)]
    return pg, Allocator(scores, pg.pairs, cost, config), dense


@pytest.mark.parametrize("cfg", SUPPORTED)
def test_cost_model_predicts_what_pruning_measures(cfg):
    """The allocator's arithmetic (params exactly, MACs within 0.1 %) is Torch-Pruning's count after pruning."""
    torch.manual_seed(0)
    model = build(cfg)
    config = PruneConfig(criterion="l2", target="macs", amount=0.5, imgsz=IMGSZ)
    pg, allocator, dense = _allocator(model, config)
    keep = allocator.search()
    predicted_macs, predicted_params = allocator.cost.macs(keep) / 1e9, allocator.cost.params(keep)
    names = {m: n for n, m in model.named_modules()}
    widths = {names[g[0][0].target.module]: int(k) for g, k in zip(pg.groups, keep)}
    to_stock(model)
    assert predicted_macs < dense.macs
    report = prune_(model, config, widths=widths)  # these widths, whichever channels the criterion picks
    assert report.pruned.macs == pytest.approx(predicted_macs, rel=1e-3)  # conv + BN MACs; the rest is small
    assert report.pruned.params == predicted_params


@pytest.mark.parametrize("target, amount", [("macs", 0.5), ("params", 0.4), ("ratio", 0.3)])
@pytest.mark.parametrize("round_to", [1, 8])
def test_allocator_meets_the_target_at_rounded_widths(target, amount, round_to):
    torch.manual_seed(0)
    model = build("yolo11n.yaml")
    config = PruneConfig(criterion="l2", target=target, amount=amount, imgsz=IMGSZ, round_to=round_to)
    pg, allocator, _ = _allocator(model, config)
    keep = allocator.search()
    to_stock(model)
    assert abs(allocator.measure(keep) - amount) <= config.tolerance * amount
    floor = np.maximum(config.min_channels, np.ceil(allocator.n * (1 - config.max_layer_ratio)))
    assert all(k % round_to == 0 or k == n for k, n in zip(keep, allocator.n))  # hardware-friendly widths
    assert all(k >= min(f, n) for k, f, n in zip(keep, floor, allocator.n))  # never below the floors
    assert all(keep[a] == keep[b] for a, b in pg.pairs)  # split halves stay equal (stock blocks need it)


def test_allocator_says_what_is_reachable_when_the_target_is_not():
    from yoloprune.errors import ConfigError

    torch.manual_seed(0)
    model = build("yolov8n.yaml")
    _, allocator, _ = _allocator(model, PruneConfig(criterion="l2", target="macs", amount=0.02, imgsz=IMGSZ))
    with pytest.raises(ConfigError, match="reachable range"):
        allocator.search()
    to_stock(model)
