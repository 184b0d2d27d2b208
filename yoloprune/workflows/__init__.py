"""The three workflows, one verb each, each with one typed config and one result type:

``oneshot.prune`` (PruneConfig -> OneShotResult), ``progressive.prune_progressive`` /
``progressive.resume`` (ProgressiveConfig -> ProgressiveResult) and ``finetune.finetune``
(FinetuneConfig -> FinetuneResult).
"""
