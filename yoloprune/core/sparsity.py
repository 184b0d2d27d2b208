"""Sparsity regularisation before pruning, as proximal steps after each optimizer step.

Ultralytics has no hook between ``backward()`` and ``optimizer.step()``, so instead of adding a
subgradient we apply the proximal operator of the penalty after the step (ISTA): for L1 on BN scales
(network slimming) ``gamma <- sign(gamma) * max(|gamma| - lr * lambda, 0)``; for the group lasso on
filters ``w_c <- w_c * max(0, 1 - lr * lambda / ||w_c||)``. Both shrink unimportant channels toward
zero so the magnitude / bn_scale criteria find them.
"""

from __future__ import annotations

import torch
from torch import nn


@torch.no_grad()
def bn_l1_prox(model: nn.Module, step: float) -> None:
    """Soft-threshold every BatchNorm scale by ``step`` (= lr * lambda)."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d) and m.weight is not None and m.weight.requires_grad:
            w = m.weight
            w.copy_(torch.sign(w) * torch.clamp(w.abs() - step, min=0))


@torch.no_grad()
def group_lasso_prox(model: nn.Module, step: float, skip: set[int] = frozenset()) -> None:
    """Shrink each conv output filter's L2 norm by ``step`` (= lr * lambda); ``skip`` holds ids of convs left alone."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d) and id(m) not in skip and m.weight.requires_grad:
            w = m.weight
            norms = w.flatten(1).norm(dim=1).clamp_min(1e-12)
            w.mul_(torch.clamp(1 - step / norms, min=0).view(-1, *([1] * (w.dim() - 1))))


def apply_sparsity(model: nn.Module, kind: str, weight: float, lr: float, skip: set[int] = frozenset()) -> None:
    if kind == "bn":
        bn_l1_prox(model, lr * weight)
    elif kind == "group":
        group_lasso_prox(model, lr * weight, skip)
