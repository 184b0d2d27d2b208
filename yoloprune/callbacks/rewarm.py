"""After a prune step, the learning rate ramps from 0 back to the schedule's value.

Fresh optimizer moments would otherwise take full-size steps on the just-pruned weights.
"""

from __future__ import annotations


class LRRewarm:
    """A linear ramp over ``epochs`` epochs of batches, restarted by :meth:`start` after each prune step."""

    def __init__(self, epochs: float):
        self.epochs = epochs
        self._ramp: dict | None = None

    def start(self, batches_per_epoch: int) -> None:
        iters = round(self.epochs * batches_per_epoch)
        self._ramp = {"iters": iters, "done": 0} if iters > 0 else None

    def on_batch(self, trainer, batch: int, batches: int) -> None:
        """Scale this batch's rates (``batch``: 1-based index in the epoch); Ultralytics' warm-up goes first."""
        ramp = self._ramp
        if ramp is None or _in_warmup(trainer, batch, batches):
            return  # Ultralytics' warm-up sets the rates itself; the ramp continues after it
        ramp["done"] += 1
        factor = min(ramp["done"] / ramp["iters"], 1.0)
        for g, base in zip(trainer.optimizer.param_groups, _scheduled_lrs(trainer, ramp)):
            g["lr"] = base * factor
        if factor >= 1.0:
            self._ramp = None


def _in_warmup(trainer, batch: int, batches: int) -> bool:
    warmup = getattr(trainer, "_get_warmup_iterations", None)
    iters = warmup(batches) if warmup is not None else 0
    return iters > 0 and (batch - 1) + batches * trainer.epoch <= iters


def _scheduled_lrs(trainer, ramp: dict) -> list[float]:
    """This epoch's scheduled rates (not whatever an earlier ramp left in the optimizer)."""
    lf, groups = getattr(trainer, "lf", None), trainer.optimizer.param_groups
    if lf is not None and all("initial_lr" in g for g in groups):
        return [g["initial_lr"] * lf(trainer.epoch) for g in groups]
    if ramp.get("base") is None:  # no Ultralytics scheduler: ramp towards the rates found at the first batch
        ramp["base"] = [g["lr"] for g in groups]
    return ramp["base"]
