"""Importance criteria: one registry of small objects with Torch-Pruning's ``__call__(group) -> Tensor``.

Each entry builds a Torch-Pruning importance (``tp.importance.*``) that scores every channel of a
dependency group (higher = keep). ``needs_gradients`` marks criteria that read ``param.grad``, which
the engine fills from a few batches of real data (or the trainer's own batches in the callbacks).

Add a criterion with :func:`register_criterion`; the CLI, config validation and the tests pick it up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch_pruning as tp

from ..errors import ConfigError


@dataclass(frozen=True)
class Criterion:
    """A registered criterion: how to build it and what it needs."""

    name: str
    build: Callable[[], Callable]  # () -> importance object, called as importance(group) -> Tensor
    needs_gradients: bool


CRITERIA: dict[str, Criterion] = {}


def register_criterion(name: str, *, needs_gradients: bool = False):
    """Decorator registering ``factory`` (no arguments, returns an importance object; its docstring says
    what it scores) under ``name``."""

    def wrap(factory):
        CRITERIA[name] = Criterion(name, factory, needs_gradients)
        return factory

    return wrap


def build_criterion(name: str):
    """Instantiate the importance object registered under ``name``."""
    if name not in CRITERIA:
        raise ConfigError(f"unknown criterion {name!r}: use one of {', '.join(CRITERIA)}")
    return CRITERIA[name].build()


@register_criterion("l1")
def _l1():
    """L1 norm of each channel's weights across the whole dependency group."""
    return tp.importance.GroupMagnitudeImportance(p=1)


@register_criterion("l2")
def _l2():
    """L2 norm of each channel's weights across the whole dependency group."""
    return tp.importance.GroupMagnitudeImportance(p=2)


@register_criterion("bn_scale")
def _bn_scale():
    """|gamma| of the group's BatchNorm layers (network slimming, Liu et al. 2017)."""
    return tp.importance.BNScaleImportance()


@register_criterion("taylor", needs_gradients=True)
def _taylor():
    """First-order Taylor |w * dL/dw| from real batches, divided by its mean within each group (Torch-Pruning's default)."""
    return tp.importance.GroupTaylorImportance()


@register_criterion("taylor_raw", needs_gradients=True)
def _taylor_raw():
    """First-order Taylor |w * dL/dw| as is: the estimated loss change, comparable across layers (Molchanov et al. 2019).

    Ranked globally, it keeps the high-resolution early layers (where MACs are) and thins the deep,
    parameter-heavy ones that the loss barely notices; the per-group ``mean`` normalisation of
    ``taylor`` hides exactly that difference between layers.
    """
    return tp.importance.GroupTaylorImportance(normalizer=None)


@register_criterion("lamp")
def _lamp():
    """Layer-adaptive magnitude (LAMP, Lee et al. 2021): magnitudes rescaled to be comparable across layers."""
    return tp.importance.LAMPImportance(p=2)


@register_criterion("random")
def _random():
    """Uniform random scores: the baseline every criterion should beat."""
    return tp.importance.RandomImportance()
