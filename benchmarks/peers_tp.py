"""Torch-Pruning's own YOLOv8 recipe, rebuilt for the pinned Ultralytics (a peer of ``benchmarks/peers.py``).

What its ``examples/yolov8/yolov8_pruning.py`` (Torch-Pruning v1.6.1, commit e80127d) does, step by step:
every ``C2f`` is replaced by a two-convolution variant (its ``chunk`` split becomes two 1x1 convs, so the
dependency graph can prune each half), then ``iterative_steps`` times: a fresh ``GroupNormPruner`` with
``GroupMagnitudeImportance()`` (group L2 magnitude), ``pruning_ratio = 1 - (1 - target_prune_rate) **
(1 / iterative_steps)`` of every layer's *current* channels (local, not global), the whole ``Detect`` head
ignored, ``pruner.step()`` without the regulariser (commented out there), then a fine-tune run.

Its script cannot run on Ultralytics 8.4 (it imports ``ultralytics.yolo.*``, removed in 8.1, and patches a
``BaseTrainer`` of 8.0); what changes here, each listed in ``CHANGES``: written anew (not copied), the step
count and the epochs between steps (equal fine-tune epochs with the other arms, see ``peers.py``), and
Ultralytics' 8.4 trainer keeping the pruned model (yoloprune's ``PrunedDetectionTrainer``, the role of its
``train_v2(pruning=True)``).
"""

from __future__ import annotations

import math
from copy import deepcopy

import torch
from torch import nn

CHANGES = (
    "written anew for Ultralytics 8.4 (the example imports ultralytics.yolo.*, gone since 8.1, and patches 8.0's "
    "BaseTrainer)",
    "5 prune steps with 2 fine-tune epochs after each (the example: 16 steps, 10 epochs each on coco128): the same "
    "10 fine-tune epochs as every arm",
    "its target_prune_rate searched until the measured OpenVINO latency is within 3 % of the budget (the example "
    "takes a channel rate)",
    "the fine-tune after each step: Ultralytics' 8.4 trainer told to keep the pruned model (yoloprune's "
    "PrunedDetectionTrainer), the same recipe and seed as every arm (the example: its own train_v2 on default.yaml)",
    "no early stop on a mAP drop (the example stops when a step loses more than max_map_drop; here every step runs)",
)


def _conv_part(conv: nn.Module, lo: int, hi: int) -> nn.Module:
    """A copy of an Ultralytics ``Conv`` (conv, BatchNorm, activation) keeping output channels ``lo:hi``."""
    part = deepcopy(conv)
    c, bn = part.conv, part.bn
    c.weight = nn.Parameter(c.weight.data[lo:hi].clone())
    if c.bias is not None:
        c.bias = nn.Parameter(c.bias.data[lo:hi].clone())
    c.out_channels = hi - lo
    bn.weight = nn.Parameter(bn.weight.data[lo:hi].clone())
    bn.bias = nn.Parameter(bn.bias.data[lo:hi].clone())
    bn.running_mean = bn.running_mean[lo:hi].clone()
    bn.running_var = bn.running_var[lo:hi].clone()
    bn.num_features = hi - lo
    return part


class C2fTwoConvs(nn.Module):
    """A ``C2f`` whose ``cv1`` output halves are two convs (``cv0``: the half that goes straight to the concat,
    ``cv1``: the half the bottlenecks read), the same function: Torch-Pruning's ``C2f_v2`` idea."""

    def __init__(self, c2f: nn.Module):
        super().__init__()
        c = c2f.c
        self.cv0 = _conv_part(c2f.cv1, 0, c)
        self.cv1 = _conv_part(c2f.cv1, c, 2 * c)
        self.cv2, self.m = c2f.cv2, c2f.m
        for attr in ("f", "i", "type", "np"):  # what Ultralytics' DetectionModel.forward and info() read
            if hasattr(c2f, attr):
                setattr(self, attr, getattr(c2f, attr))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = [self.cv0(x), self.cv1(x)]
        y.extend(m(y[-1]) for m in self.m)
        return self.cv2(torch.cat(y, 1))


def replace_c2f(model: nn.Module) -> int:
    """Every ``C2f`` of ``model`` replaced in place by :class:`C2fTwoConvs`; how many."""
    from ultralytics.nn.modules import C2f

    count = 0
    for name, child in model.named_children():
        if type(child) is C2f:
            setattr(model, name, C2fTwoConvs(child))
            count += 1
        else:
            count += replace_c2f(child)
    return count


def step_ratio(target_prune_rate: float, steps: int) -> float:
    """The example's per-step ratio: ``steps`` cuts of it leave ``1 - target_prune_rate`` of every layer."""
    return 1 - math.pow(1 - target_prune_rate, 1 / steps)


def _outputs(out) -> list[torch.Tensor]:
    """Every tensor of a model output (Ultralytics 8.4's Detect returns tensors, tuples or dicts by mode)."""
    if isinstance(out, torch.Tensor):
        return [out]
    if isinstance(out, dict):
        out = list(out.values())
    if isinstance(out, (list, tuple)):
        return [t for o in out for t in _outputs(o)]
    return []


def prune_step(model: nn.Module, ratio: float, imgsz: int) -> None:
    """One step of the recipe on ``model`` (a DetectionModel whose C2f were replaced), in place."""
    import torch_pruning as tp
    from ultralytics.nn.modules import Detect

    model.train()
    model.requires_grad_(True)
    example = torch.randn(1, 3, imgsz, imgsz)
    pruner = tp.pruner.GroupNormPruner(
        model, example, importance=tp.importance.GroupMagnitudeImportance(), iterative_steps=1,
        pruning_ratio=ratio, ignored_layers=[m for m in model.modules() if isinstance(m, Detect)],
        output_transform=_outputs)
    pruner.step()
    model.eval()


def cut(model: nn.Module, target_prune_rate: float, steps: int, imgsz: int) -> nn.Module:
    """All ``steps`` steps at once, no fine-tune between (the widths do not depend on the weights: every layer keeps
    its share, so the search for a latency can run on the start model alone)."""
    net = deepcopy(model).float()
    replace_c2f(net)
    for _ in range(steps):
        prune_step(net, step_ratio(target_prune_rate, steps), imgsz)
    return net
