"""The layer map: every convolution's shape as a function of the group widths, exactly what a prune builds."""

import random

import pytest
import torch
from torch import nn

from yoloprune.core.layers import layer_map
from yoloprune.core.prune import group_layout, pruned_to

IMGSZ = 64


def _conv_macs(model: nn.Module, imgsz: int) -> int:
    total = [0]

    def hook(m, args, out):
        k = m.kernel_size[0] * m.kernel_size[1]
        total[0] += k * (m.in_channels // m.groups) * m.out_channels * out.shape[-2] * out.shape[-1]

    hooks = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 3, imgsz, imgsz))
    for h in hooks:
        h.remove()
    return total[0]


@pytest.mark.parametrize("yaml", ["yolov8n.yaml", "yolo11n.yaml", "yolo26n.yaml"])
def test_the_layer_map_predicts_the_convolutions_a_prune_builds(yaml):
    """Random group widths: the map's predicted conv MACs saving equals the pruned model's, to the MAC (a wrong
    group-to-conv mapping, a missed concat input or a depthwise conv counted twice would all show)."""
    from ultralytics import YOLO

    torch.manual_seed(0)
    net = YOLO(yaml).model
    lm = layer_map(net, IMGSZ)
    assert lm.sites and set(lm.widths) == set(group_layout(net).widths)
    assert all(s.out_groups or s.in_groups for s in lm.sites)
    rng = random.Random(0)
    widths = {g: max(8, 8 * round(rng.uniform(0.25, 1) * w / 8)) for g, w in lm.widths.items()}
    for a, b in group_layout(net).pairs:
        widths[b] = widths[a]
    dense = sum(s.macs for s in lm.shapes())
    assert dense == sum(s.macs for s in lm.shapes({}))  # missing groups are dense
    pruned = pruned_to(net, widths, IMGSZ)
    assert dense - sum(s.macs for s in lm.shapes(widths)) == _conv_macs(net, IMGSZ) - _conv_macs(pruned, IMGSZ) > 0
