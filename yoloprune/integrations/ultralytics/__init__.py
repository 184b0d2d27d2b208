"""Ultralytics integration: model loading/saving (``model_io``), the trainer that keeps a pruned
architecture (``trainer``), re-pointing a trainer after a prune step (``surgery``) and CPU training speed
(``cpu_speed``). The training callbacks are :mod:`yoloprune.callbacks`."""
