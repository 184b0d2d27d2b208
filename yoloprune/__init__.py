"""yoloprune: structured channel pruning for Ultralytics YOLO detectors.

Importing this package has no side effects and imports neither Ultralytics nor any export backend;
names are resolved on first use. Ultralytics keeps the user's settings, config dir and online state
(offline mode is an opt-in: ``YOLOPRUNE_OFFLINE=1``, see :mod:`yoloprune.offline`).
"""

from . import offline as _offline  # stdlib only: reads OMP_NUM_THREADS before Ultralytics' import changes it

if _offline.requested():  # the user's explicit opt-in (YOLOPRUNE_OFFLINE=1), before any submodule imports Ultralytics
    _offline.set_environment()

__version__ = "0.1.0"

_LAZY = {
    "PruneConfig": "yoloprune.config",
    "prune_": "yoloprune.engine",
    "PruneReport": "yoloprune.engine",
    "prune": "yoloprune.api",
    "finetune": "yoloprune.finetune",
    "YOLO": "yoloprune.trainer",
    "PrunedDetectionTrainer": "yoloprune.trainer",
    "CRITERIA": "yoloprune.importance",
    "register_criterion": "yoloprune.importance",
    "generate_shapes": "yoloprune.data",
    "resolve_dataset": "yoloprune.data",
    "YoloPruneError": "yoloprune.errors",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        import importlib

        if _LAZY[name] in {"yoloprune.engine", "yoloprune.api", "yoloprune.finetune", "yoloprune.trainer"}:
            _offline.configure_if_requested()  # these import Ultralytics: offline only when the user opted in
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'yoloprune' has no attribute {name!r}")
