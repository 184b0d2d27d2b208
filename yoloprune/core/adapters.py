"""Exact, reversible re-parameterisations of Ultralytics' split blocks for Torch-Pruning.

Torch-Pruning's tracer crashes on ``cv1(x).chunk(2, 1)`` / ``.split(...)`` in C2f, C3k2 and C2PSA
(field notes). Before pruning, :func:`to_prunable` swaps each such block for an adapter whose
``cv1`` is two convolutions (``cv1a`` -> the pass-through half, ``cv1b`` -> the half that feeds
``m``); outputs are identical because every output channel of a convolution is computed from its own
filter. After pruning, :func:`to_stock` merges the halves back into the stock class, so a pruned
checkpoint pickles nothing but Ultralytics and torch classes and loads with stock Ultralytics. That
needs both halves to keep the same width, which the engine enforces (see ``split_pairs``).
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from ultralytics.nn.modules import C2PSA, C2f, Conv


def _slice_conv(conv: Conv, start: int, stop: int) -> Conv:
    """Copy of an Ultralytics ``Conv`` keeping output channels ``start:stop`` (conv + BN)."""
    part = copy.deepcopy(conv)
    part.act = conv.act  # Ultralytics shares one activation module across Convs; keep sharing it
    part.conv.weight = nn.Parameter(conv.conv.weight.data[start:stop].clone(), conv.conv.weight.requires_grad)
    part.conv.out_channels = stop - start
    if conv.conv.bias is not None:
        part.conv.bias = nn.Parameter(conv.conv.bias.data[start:stop].clone(), conv.conv.bias.requires_grad)
    bn = part.bn
    bn.weight = nn.Parameter(conv.bn.weight.data[start:stop].clone(), conv.bn.weight.requires_grad)
    bn.bias = nn.Parameter(conv.bn.bias.data[start:stop].clone(), conv.bn.bias.requires_grad)
    bn.running_mean = conv.bn.running_mean[start:stop].clone()
    bn.running_var = conv.bn.running_var[start:stop].clone()
    bn.num_features = stop - start
    return part


def _concat_convs(first: Conv, second: Conv) -> Conv:
    """One ``Conv`` whose output channels are ``first``'s followed by ``second``'s."""
    merged = copy.deepcopy(first)
    merged.act = first.act
    cat = lambda a, b: torch.cat([a.detach(), b.detach()], 0)  # noqa: E731
    merged.conv.weight = nn.Parameter(cat(first.conv.weight, second.conv.weight), first.conv.weight.requires_grad)
    merged.conv.out_channels = merged.conv.weight.shape[0]
    if first.conv.bias is not None:
        merged.conv.bias = nn.Parameter(cat(first.conv.bias, second.conv.bias), first.conv.bias.requires_grad)
    merged.bn.weight = nn.Parameter(cat(first.bn.weight, second.bn.weight), first.bn.weight.requires_grad)
    merged.bn.bias = nn.Parameter(cat(first.bn.bias, second.bn.bias), first.bn.bias.requires_grad)
    merged.bn.running_mean = cat(first.bn.running_mean, second.bn.running_mean)
    merged.bn.running_var = cat(first.bn.running_var, second.bn.running_var)
    merged.bn.num_features = merged.conv.out_channels
    return merged


class SplitBlock(nn.Module):
    """Adapter for a split block: ``cv1`` as ``cv1a``/``cv1b``; keeps the original for :func:`to_stock`."""

    def __init__(self, block: nn.Module):
        super().__init__()
        c = block.c
        self.stock_class = type(block)
        self.cv1a = _slice_conv(block.cv1, 0, c)
        self.cv1b = _slice_conv(block.cv1, c, 2 * c)
        self.cv2, self.m = block.cv2, block.m
        # everything else (i, f, type, np, ... set by parse_model) travels with the block
        self._extra = {k: v for k, v in vars(block).items() if not k.startswith("_") and k != "training"}
        # hooks others registered on the block (e.g. Ultralytics' distillation reads its output): kept for the
        # restored block, so their handles still remove them; not run while the block is adapted
        self._stock_hooks = {k: v for k, v in vars(block).items() if k.startswith("_") and "hook" in k}
        for key in ("i", "f", "type", "np"):  # parse_model's routing attributes, read by _predict_once
            if key in self._extra:
                setattr(self, key, self._extra[key])
        self.train(block.training)  # a fresh module is in train mode: BN would differ (field notes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = self.cv1a(x), self.cv1b(x)
        if issubclass(self.stock_class, C2f):  # C2f, C3k2: concat every intermediate output
            y = [a, b]
            y.extend(m(y[-1]) for m in self.m)
            return self.cv2(torch.cat(y, 1))
        return self.cv2(torch.cat((a, self.m(b)), 1))  # C2PSA: one pass through m

    def restore(self) -> nn.Module:
        """The stock block with the (possibly pruned) halves merged back into ``cv1``."""
        ca, cb = self.cv1a.conv.out_channels, self.cv1b.conv.out_channels
        if ca != cb:
            raise RuntimeError(f"split halves differ ({ca} vs {cb}); the stock block needs equal halves")
        block = self.stock_class.__new__(self.stock_class)
        nn.Module.__init__(block)
        for k, v in self._extra.items():
            setattr(block, k, v)
        vars(block).update(self._stock_hooks)
        block.c = ca
        block.cv1 = _concat_convs(self.cv1a, self.cv1b)
        block.cv2, block.m = self.cv2, self.m
        block.train(self.training)
        return block


ADAPTED_TYPES = (C2f, C2PSA)  # C3k2, C2fPSA, C2fCIB subclass C2f


def _replace_children(model: nn.Module, convert) -> int:
    count = 0
    for parent in model.modules():
        for name, child in list(parent.named_children()):
            new = convert(child)
            if new is not child:
                setattr(parent, name, new)
                count += 1
    return count


def to_prunable(model: nn.Module) -> int:
    """Swap every split block in ``model`` for a :class:`SplitBlock` in place; return how many."""
    return _replace_children(
        model, lambda m: SplitBlock(m) if isinstance(m, ADAPTED_TYPES) and type(m).forward is not None else m
    )


def to_stock(model: nn.Module) -> int:
    """Merge every :class:`SplitBlock` back into its stock Ultralytics class in place; return how many."""
    return _replace_children(model, lambda m: m.restore() if isinstance(m, SplitBlock) else m)


def split_pairs(model: nn.Module) -> list[tuple[nn.Conv2d, nn.Conv2d]]:
    """The (cv1a, cv1b) conv pairs whose output widths must stay equal."""
    return [(m.cv1a.conv, m.cv1b.conv) for m in model.modules() if isinstance(m, SplitBlock)]
