"""Moved to :mod:`yoloprune.callbacks.pruning` (this path still works, with a DeprecationWarning)."""

from ....deprecation import moved

__getattr__ = moved(__name__, "yoloprune.callbacks.pruning")
