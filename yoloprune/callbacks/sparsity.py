"""Sparsity regularisation during training: one proximal step after every optimizer step."""

from __future__ import annotations

from ultralytics.utils.torch_utils import unwrap_model

from ..core.graph import output_layers
from ..core.sparsity import apply_sparsity
from ..integrations.ultralytics.native_distill import student_of


class SparsityStep:
    """Applies ``kind`` (bn | group) with strength ``weight`` after each optimizer step, until told to stop."""

    def __init__(self, kind: str, weight: float):
        self.kind, self.weight = kind, weight
        self._last_update = -1

    def on_batch_end(self, trainer) -> None:
        updates = trainer.ema.updates if trainer.ema is not None else None
        if updates is not None and updates == self._last_update:
            return  # once per optimizer step (batches accumulate; a duplicate registration changes nothing)
        self._last_update = updates
        model = student_of(unwrap_model(trainer.model))  # (not the teacher or projectors of Ultralytics' distillation)
        lr = trainer.optimizer.param_groups[0]["lr"]
        apply_sparsity(model, self.kind, self.weight, lr, skip={id(m) for m in output_layers(model)})
