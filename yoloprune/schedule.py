"""Pruning schedules as plain callables: ``schedule(t) -> fraction of the final pruning done`` for t in [0, 1].

A progressive run prunes at ``steps`` epochs spread evenly over ``[start_epoch, end_epoch]``; step
``k`` (1-based) brings the model to ``schedule(k / steps)`` of the way from dense to the target.
"""

from __future__ import annotations

from typing import Callable


def linear(t: float) -> float:
    """Equal steps."""
    return t


def agp(t: float) -> float:
    """Automated gradual pruning (Zhu & Gupta, 2017): prune fast while redundancy is high, then slowly."""
    return 1.0 - (1.0 - t) ** 3


def oneshot(t: float) -> float:
    """Everything at the first step (the degenerate schedule)."""
    return 1.0 if t > 0 else 0.0


SCHEDULES: dict[str, Callable[[float], float]] = {"linear": linear, "agp": agp, "oneshot": oneshot}


def prune_epochs(start_epoch: int, end_epoch: int, steps: int) -> list[int]:
    """The epochs (0-based, at their start) of the ``steps`` pruning steps; a short span repeats epochs."""
    if steps == 1:
        return [start_epoch]
    span = end_epoch - start_epoch
    return [start_epoch + round(i * span / (steps - 1)) for i in range(steps)]


def kept_fraction_at(step: int, steps: int, final_kept: float, schedule: Callable[[float], float]) -> float:
    """The dense fraction (of MACs, params or channels) kept after ``step`` of ``steps``."""
    return 1.0 - (1.0 - final_kept) * schedule(step / steps)
