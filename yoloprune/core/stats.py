"""What a model costs: parameters, MACs at an image size, channel widths."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch_pruning as tp
from torch import nn

from .modes import model_mode


@dataclass(frozen=True)
class ModelStats:
    params: int
    macs: float  # in G (10^9 multiply-accumulates) at the image size it was counted at


def model_stats(model: nn.Module, imgsz: int) -> ModelStats:
    """Parameters and inference MACs (G) of ``model`` at ``imgsz`` (counted by Torch-Pruning)."""
    x = torch.zeros(1, 3, imgsz, imgsz, device=next(model.parameters()).device)
    with model_mode(model, training=False):
        macs, params = tp.utils.count_ops_and_params(model, x)
    return ModelStats(params=int(params), macs=float(macs) / 1e9)


def forward_sizes(model: nn.Module, imgsz: int, modules) -> dict[nn.Module, tuple[tuple[int, int], tuple[int, int]]]:
    """``{module: (input (h, w), output (h, w))}`` of each of ``modules`` that runs in an inference forward of
    ``model`` at ``imgsz`` (modules that do not run are left out)."""
    sizes, hooks = {}, []

    def seen(mod, args, out):
        sizes[mod] = (tuple(map(int, args[0].shape[-2:])), tuple(map(int, out.shape[-2:])))

    for m in modules:
        hooks.append(m.register_forward_hook(seen))
    try:
        with torch.no_grad(), model_mode(model, training=False):
            model(torch.zeros(1, 3, imgsz, imgsz, device=next(model.parameters()).device))
    finally:
        for h in hooks:
            h.remove()
    return sizes


def conv_widths(model: nn.Module) -> dict[str, int]:
    """Output channels of every convolution, by module name."""
    return {name: m.out_channels for name, m in model.named_modules() if isinstance(m, nn.Conv2d)}


def total_channels(model: nn.Module) -> int:
    """Output channels of all convolutions together."""
    return sum(m.out_channels for m in model.modules() if isinstance(m, nn.Conv2d))
