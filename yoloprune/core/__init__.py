"""The pruning core: torch, Torch-Pruning and Ultralytics' model definitions (``ultralytics.nn``) only.

``config`` (what to prune), ``criteria`` (importance registry), ``adapters`` + ``graph`` (tracing
Ultralytics' blocks), ``allocation`` (cost model and width search), ``plan`` (the width plan),
``schedule`` (progressive steps), ``stats``, ``sparsity`` and ``prune`` (``prune_``, the verb).
No trainer, no files, no settings: everything here is a function of a model and a config.
"""
