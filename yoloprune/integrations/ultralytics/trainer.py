"""Training that keeps a pruned architecture.

Stock ``model.train()`` rebuilds the model from its YAML and copies matching tensors (a pruned model
silently becomes dense again — field notes). :class:`PrunedDetectionTrainer` returns the pruned
module itself; :class:`YOLO` is ``ultralytics.YOLO`` with that trainer for the detect task, so
``yoloprune.YOLO("pruned.pt").train(...)`` fine-tunes the pruned network. With stock Ultralytics,
pass ``trainer=yoloprune.PrunedDetectionTrainer`` to ``train``.
"""

from __future__ import annotations

from copy import deepcopy

from ultralytics import YOLO as _YOLO
from ultralytics.models.yolo.detect import DetectionTrainer
from ultralytics.utils import RANK

from ... import offline
from ...errors import ConfigError
from .cpu_speed import add_cpu_training_speed
from .model_io import is_pruned


class PrunedDetectionTrainer(DetectionTrainer):
    """A ``DetectionTrainer`` whose ``get_model`` keeps a pruned architecture instead of rebuilding the YAML.

    It also trains channels-last on the CPU (``integrations.ultralytics.cpu_speed``; Ultralytics does so on CUDA only)
    and, under ``YOLOPRUNE_OFFLINE=1``, keeps Ultralytics' AMP check from downloading (``offline``).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        add_cpu_training_speed(self)
        offline.guard_amp_check_if_requested()  # YOLOPRUNE_OFFLINE=1: every run of ours, DDP workers included

    def get_model(self, cfg=None, weights=None, verbose=True):
        source = weights.get("ema") or weights.get("model") if isinstance(weights, dict) else weights
        if not is_pruned(source):
            return super().get_model(cfg=cfg, weights=weights, verbose=verbose)
        head = source.model[-1]
        if self.data and self.data.get("nc") not in (None, head.nc):
            raise ConfigError(
                f"this pruned model predicts {head.nc} classes but the dataset has {self.data['nc']}: "
                "prune a model trained on this dataset (the class convs are never pruned or resized)"
            )
        model = deepcopy(source).float().requires_grad_(True)
        if verbose and RANK in {-1, 0}:
            model.info()
        return self.set_model_names_for_load(model)


class YOLO(_YOLO):
    """``ultralytics.YOLO`` whose detect trainer keeps pruned architectures."""

    @property
    def task_map(self):
        tasks = dict(super().task_map)
        tasks["detect"] = {**tasks["detect"], "trainer": PrunedDetectionTrainer}
        return tasks
