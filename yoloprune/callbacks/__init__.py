"""Ultralytics callbacks that prune during ``YOLO(...).train(...)``.

Plain Ultralytics::

    from ultralytics import YOLO
    from yoloprune.callbacks import pruning_callbacks
    model = YOLO("yolo11n.yaml")
    for event, fn in pruning_callbacks(target="macs", amount=0.5, schedule="agp").items():
        model.add_callback(event, fn)
    model.train(data=..., epochs=60)

or the one-line helper ``add_pruning_callbacks(model, ...)`` (registering again replaces the first
set; a set registered twice by hand still prunes once). Options are the fields of
:class:`~yoloprune.core.config.PruneConfig` and :class:`~yoloprune.core.config.ProgressiveConfig`,
flat; or pass one ``config`` (a ``ProgressiveConfig``, or a ``PruneConfig`` with the default schedule).
"""

from __future__ import annotations

from ..core.config import ProgressiveConfig, from_options
from .pruning import PruningCallbacks


def pruning_callbacks(config=None, **options) -> dict:
    """``{event: callback}`` for a new :class:`PruningCallbacks`."""
    return PruningCallbacks(from_options(ProgressiveConfig, config, options)).callbacks


def add_pruning_callbacks(model, config=None, **options) -> PruningCallbacks:
    """Register pruning callbacks on a ``YOLO`` model (idempotent); return the callbacks object."""
    for event, fns in model.callbacks.items():
        model.callbacks[event] = [f for f in fns if not isinstance(getattr(f, "__self__", None), PruningCallbacks)]
    cb = PruningCallbacks(from_options(ProgressiveConfig, config, options))
    for event, fn in cb.callbacks.items():
        model.add_callback(event, fn)
    return cb


__all__ = ["PruningCallbacks", "add_pruning_callbacks", "pruning_callbacks"]
