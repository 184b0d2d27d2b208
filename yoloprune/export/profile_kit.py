"""Moved to :mod:`yoloprune.profiling.kit` (this path still works, with a DeprecationWarning)."""

from ..deprecation import moved

__getattr__ = moved(__name__, "yoloprune.profiling.kit")
