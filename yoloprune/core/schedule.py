"""Pruning schedules as plain callables: ``schedule(t) -> fraction of the final pruning done`` for t in [0, 1].

A progressive run prunes at ``steps`` points spread evenly over epochs ``[start_epoch, end_epoch]``
(fractional points fall part-way through an epoch: a short run can still prune gradually); step
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


def prune_epochs(start_epoch: int, end_epoch: int, steps: int) -> list[float]:
    """When the ``steps`` pruning steps run, in epochs from the run's start (0-based; 1.5 = half-way through epoch 2)."""
    if steps == 1:
        return [float(start_epoch)]
    if end_epoch == start_epoch:  # all in one epoch: spread over it rather than back to back
        return [round(start_epoch + i / steps, 6) for i in range(steps)]
    span = end_epoch - start_epoch
    return [round(start_epoch + i * span / (steps - 1), 6) for i in range(steps)]


def width_at(step: int, steps: int, dense: int, final: int, schedule: Callable[[float], float], round_to: int = 1) -> int:
    """Channels a group keeps after ``step`` of ``steps`` on its way from ``dense`` to its planned ``final`` width."""
    goal = dense - (dense - final) * schedule(step / steps)
    if step >= steps or dense <= final:
        return final
    allowed = [c for c in range(final, dense + 1) if (c - final) % round_to == 0 or c == dense]
    return min(allowed, key=lambda c: (abs(c - goal), -c))
