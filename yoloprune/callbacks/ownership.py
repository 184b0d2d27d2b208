"""One set of pruning callbacks drives a trainer: the first to see it claims it, repeats are dropped."""

from __future__ import annotations

OWNER_ATTR = "_yoloprune_owner"  # set on the trainer by the one callbacks object that drives it


def claim(trainer, token: int, ours) -> bool:
    """True when the callbacks with ``token`` drive ``trainer`` (the first to ask claims it; others stay silent).

    ``ours`` returns the ``{event: fn}`` dict to de-duplicate; it is only built when the trainer is claimed
    (this runs on every batch event)."""
    owner = getattr(trainer, OWNER_ATTR, None)
    if owner is None:
        setattr(trainer, OWNER_ATTR, token)
        drop_repeats(trainer, ours())
        return True
    return owner == token


def drop_repeats(trainer, ours: dict) -> None:
    """Keep one registration of each of our callbacks: the same set added twice by hand must not run twice.

    Per-batch work (the batch counter that places mid-epoch steps, the LR ramp) is not idempotent, so
    the trainer's own callback lists are de-duplicated in place (an event being run keeps iterating).
    """
    for event, fn in ours.items():
        registered = trainer.callbacks.get(event, [])
        first = next((i for i, f in enumerate(registered) if f == fn), None)
        if first is not None:
            registered[:] = [f for i, f in enumerate(registered) if i <= first or f != fn]
