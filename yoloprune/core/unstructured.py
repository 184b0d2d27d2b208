"""Unstructured sparsity: individual weights zeroed globally by magnitude (made permanent: no masks).

It removes no channel, so a dense runtime runs the model exactly as fast as before; it pays where the
runtime stores or computes sparse weights — CoreML's sparse weight compression (smaller files, and on
the Neural Engine faster at high sparsity, per Apple). The Detect head's output convolutions (boxes,
class scores) are left dense, as in structured pruning.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from ..errors import ConfigError
from .graph import output_layers


@dataclass(frozen=True)
class SparsityReport:
    amount: float  # asked: fraction of the eligible weights zeroed
    sparsity: float  # achieved over the eligible weights
    eligible: int  # conv weights that could be zeroed
    params: int  # all parameters of the model
    nonzero: int  # parameters that are not zero after sparsifying
    layers: list = field(default_factory=list)  # {"name", "weights", "zeros", "sparsity"} per conv

    def to_dict(self) -> dict:
        return asdict(self)


@torch.no_grad()
def sparsify_(model: nn.Module, amount: float) -> SparsityReport:
    """Zero the ``amount`` fraction of smallest-magnitude conv weights across the whole model, in place."""
    if isinstance(amount, bool) or not isinstance(amount, (int, float)) or not 0.0 < amount < 1.0:
        raise ConfigError(f"amount={amount!r} must be strictly between 0 and 1 (the fraction of weights zeroed)")
    frozen = {id(m) for head in output_layers(model) for m in head.modules()}
    convs = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Conv2d) and id(m) not in frozen]
    magnitudes = torch.cat([m.weight.detach().abs().flatten().float() for _, m in convs])
    k = int(round(amount * magnitudes.numel()))
    threshold = magnitudes.kthvalue(k).values.item() if k > 0 else -1.0
    layers = []
    for name, m in convs:
        m.weight[m.weight.abs() <= threshold] = 0.0
        zeros = int((m.weight == 0).sum())
        layers.append({"name": name, "weights": m.weight.numel(), "zeros": zeros, "sparsity": zeros / m.weight.numel()})
    eligible = sum(layer["weights"] for layer in layers)
    params = sum(p.numel() for p in model.parameters())
    nonzero = sum(int((p != 0).sum()) for p in model.parameters())
    return SparsityReport(float(amount), sum(layer["zeros"] for layer in layers) / eligible, eligible, params, nonzero,
                          layers)
