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
    searching/                     the search for the fastest model within an accuracy budget (here or on Ray)
    demo, cli, __main__            entry points
"""

from . import offline as _offline  # stdlib only: reads OMP_NUM_THREADS before Ultralytics' import changes it

if _offline.requested():  # the user's explicit opt-in (YOLOPRUNE_OFFLINE=1), before any submodule imports Ultralytics
    _offline.set_environment()

__version__ = "0.1.0"

# the public API, by what each name is; each resolves from its module on first use
VERBS = {  # one verb per workflow: verb(model, config=None, *, data=None, project=..., name=..., **options)
    "prune_": "yoloprune.core.prune",  # in place, on a model in hand
    "prune": "yoloprune.workflows.oneshot",
    "prune_progressive": "yoloprune.workflows.progressive",
    "resume": "yoloprune.workflows.progressive",
    "finetune": "yoloprune.workflows.finetune",
    "sparsify": "yoloprune.workflows.sparsify",
    "sensitivity": "yoloprune.workflows.sensitivity",
    "profile": "yoloprune.profiling.profile",
    "export_all": "yoloprune.export.exporter",
    "benchmark": "yoloprune.benchmarking.benchmark",
    "search": "yoloprune.searching.search",
}
CONFIGS = {  # frozen, validated when made
    "PruneConfig": "yoloprune.core.config",
    "ProgressiveConfig": "yoloprune.core.config",
    "FinetuneConfig": "yoloprune.workflows.finetune",
    "SparsifyConfig": "yoloprune.workflows.sparsify",
    "SensitivityConfig": "yoloprune.workflows.sensitivity",
    "LatencyCheck": "yoloprune.workflows.latency",
    "ProfileConfig": "yoloprune.profiling.profile",
    "ExportConfig": "yoloprune.export.exporter",
    "BenchmarkConfig": "yoloprune.benchmarking.benchmark",
    "SearchConfig": "yoloprune.searching.config",
}
RESULTS = {  # what the verbs return: each has .report (its record) and .run_dir
    "PruneReport": "yoloprune.core.prune",
    "WidthPlan": "yoloprune.core.plan",
    "OneShotResult": "yoloprune.workflows.oneshot",
    "ProgressiveResult": "yoloprune.workflows.progressive",
    "FinetuneResult": "yoloprune.workflows.finetune",
    "SparsifyResult": "yoloprune.workflows.sparsify",
    "SensitivityResult": "yoloprune.workflows.sensitivity",
    "ProfileResult": "yoloprune.profiling.profile",
    "LatencyTable": "yoloprune.core.latency",
    "ExportResult": "yoloprune.export.exporter",
    "BenchmarkResult": "yoloprune.benchmarking.benchmark",
    "SearchResult": "yoloprune.searching.search",
}
INTEGRATION = {  # Ultralytics: the trainer that keeps a pruned architecture, the callbacks
    "YOLO": "yoloprune.integrations.ultralytics.trainer",
    "PrunedDetectionTrainer": "yoloprune.integrations.ultralytics.trainer",
    "pruning_callbacks": "yoloprune.callbacks",
    "add_pruning_callbacks": "yoloprune.callbacks",
    "PruningCallbacks": "yoloprune.callbacks",
}
EXTENDING = {  # criteria, data, errors
    "CRITERIA": "yoloprune.core.criteria",
    "register_criterion": "yoloprune.core.criteria",
    "generate_shapes": "yoloprune.data",
    "resolve_dataset": "yoloprune.data",
    "YoloPruneError": "yoloprune.errors",
    "ConfigError": "yoloprune.errors",
}
_LAZY = {**VERBS, **CONFIGS, **RESULTS, **INTEGRATION, **EXTENDING}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        import importlib  # noqa: PLC0415 (stdlib; resolving a lazy name is the one thing this module does)

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'yoloprune' has no attribute {name!r}")
