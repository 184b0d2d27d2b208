"""Old import paths that keep working: a module that moved leaves a stub behind whose names resolve from
the new module on first use, each with a ``DeprecationWarning`` naming the new path.

A stub is two lines and nothing else (``tests/test_architecture.py`` checks it)::

    from yoloprune.deprecation import moved
    __getattr__ = moved(__name__, "yoloprune.callbacks.pruning")
"""

from __future__ import annotations

import importlib
import warnings


def moved(old: str, new: str):
    """A module ``__getattr__`` for the stub left at ``old``: each name comes from ``new``, with a warning."""

    def __getattr__(name: str):
        if name.startswith("__"):  # dunder probes (``__path__``, ``__all__``, ...) are not the user's names
            raise AttributeError(name)
        try:
            value = getattr(importlib.import_module(new), name)
        except AttributeError:
            raise AttributeError(f"module {old!r} has no attribute {name!r} (it moved to {new!r})") from None
        warnings.warn(f"{old} moved to {new}: import {name} from {new} (the old path will be removed in a "
                      "future release)", DeprecationWarning, stacklevel=2)
        return value

    return __getattr__
