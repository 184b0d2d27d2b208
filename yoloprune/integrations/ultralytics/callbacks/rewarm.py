"""Moved to :mod:`yoloprune.callbacks.rewarm` (this path still works, with a DeprecationWarning)."""

from ....deprecation import moved

__getattr__ = moved(__name__, "yoloprune.callbacks.rewarm")
