"""Moved to :mod:`yoloprune.profiling.profile` (this path still works, with a DeprecationWarning)."""

from ..deprecation import moved

__getattr__ = moved(__name__, "yoloprune.profiling.profile")
