"""yoloprune: structured channel pruning for Ultralytics YOLO detectors.

Importing this package has no side effects and imports neither Ultralytics nor any export backend;
names are resolved on first use. Ultralytics keeps the user's settings, config dir and online state
(offline mode is an opt-in: ``YOLOPRUNE_OFFLINE=1``, see :mod:`yoloprune.offline`).

The layers, each importing only from those before it::

    errors, io, offline, logs      base: user-facing errors, every file write, entry-point environment
    deprecation                    base: the stubs left at moved import paths (a warning naming the new one)
    core/                          torch + Torch-Pruning: configs, criteria, graph, allocation, prune_()
    reporting/                     report, tables, plots (reads run folders)
    integrations/ultralytics/      model I/O, the trainer that keeps a pruned architecture, trainer surgery
    data/                          dataset registry, shapes generator, loaders
    callbacks/, export/            the training callbacks; formats, exporter, parity checks, OpenVINO precision
    profiling/                     side-by-side timing, latency tables, device profile kits
    workflows/, benchmarking/      oneshot / progressive / finetune / ...; deployment benchmarks, device bundles
    demo, cli, __main__            entry points
"""

from . import offline as _offline  # stdlib only: reads OMP_NUM_THREADS before Ultralytics' import changes it

if _offline.requested():  # the user's explicit opt-in (YOLOPRUNE_OFFLINE=1), before any submodule imports Ultralytics
    _offline.set_environment()

__version__ = "0.1.0"

_LAZY = {
    "PruneConfig": "yoloprune.core.config",
    "ProgressiveConfig": "yoloprune.core.config",
    "WidthPlan": "yoloprune.core.plan",
    "prune_": "yoloprune.core.prune",
    "PruneReport": "yoloprune.core.prune",
    "CRITERIA": "yoloprune.core.criteria",
    "register_criterion": "yoloprune.core.criteria",
    "prune": "yoloprune.workflows.oneshot",
    "OneShotResult": "yoloprune.workflows.oneshot",
    "prune_progressive": "yoloprune.workflows.progressive",
    "resume": "yoloprune.workflows.progressive",
    "ProgressiveResult": "yoloprune.workflows.progressive",
    "sparsify": "yoloprune.workflows.sparsify",
    "sensitivity": "yoloprune.workflows.sensitivity",
    "SparsifyConfig": "yoloprune.workflows.sparsify",
    "finetune": "yoloprune.workflows.finetune",
    "FinetuneConfig": "yoloprune.workflows.finetune",
    "FinetuneResult": "yoloprune.workflows.finetune",
    "YOLO": "yoloprune.integrations.ultralytics.trainer",
    "PrunedDetectionTrainer": "yoloprune.integrations.ultralytics.trainer",
    "pruning_callbacks": "yoloprune.callbacks",
    "add_pruning_callbacks": "yoloprune.callbacks",
    "export_all": "yoloprune.export.exporter",
    "benchmark": "yoloprune.benchmarking.benchmark",
    "generate_shapes": "yoloprune.data",
    "resolve_dataset": "yoloprune.data",
    "YoloPruneError": "yoloprune.errors",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        import importlib  # noqa: PLC0415 (stdlib; resolving a lazy name is the one thing this module does)

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'yoloprune' has no attribute {name!r}")
