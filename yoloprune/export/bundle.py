"""Moved to :mod:`yoloprune.benchmarking.bundle` (this path still works, with a DeprecationWarning)."""

from ..deprecation import moved

__getattr__ = moved(__name__, "yoloprune.benchmarking.bundle")
