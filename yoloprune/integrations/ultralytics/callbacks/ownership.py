"""Moved to :mod:`yoloprune.callbacks.ownership` (this path still works, with a DeprecationWarning)."""

from ....deprecation import moved

__getattr__ = moved(__name__, "yoloprune.callbacks.ownership")
