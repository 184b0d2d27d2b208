"""Distillation from the frozen dense model during the fine-tune stage, as a wrapper around the loss.

``DistillationLoss`` replaces ``model.criterion`` (an attribute Ultralytics calls from
``model.loss``), adds ``weight * KD`` to the detection loss and leaves the logged loss items as they
are. Logit KD: BCE of student class logits against the teacher's probabilities, plus KL between box
distributions (DFL heads) or L1 between boxes (YOLO26, no DFL). Feature KD: spatial attention
transfer (Zagoruyko & Komodakis) on the neck features — channel-count independent, so no adapter
layers are needed between a pruned student and the dense teacher.
"""

from __future__ import annotations

from copy import deepcopy
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from ultralytics.utils import LOGGER, RANK
from ultralytics.utils.torch_utils import unwrap_model

from .. import offline
from ..errors import ConfigError
from ..io import write_torch_atomic


def _branches(preds) -> list[dict]:
    if isinstance(preds, dict) and "one2many" in preds:
        return [preds["one2many"], preds["one2one"]]
    return [preds] if isinstance(preds, dict) else []


def _attention(f: torch.Tensor) -> torch.Tensor:
    return F.normalize(f.float().pow(2).mean(1).flatten(1), dim=1)


def logit_kd(student: dict, teacher: dict, reg_max: int) -> torch.Tensor:
    s_cls, t_cls = student["scores"].float(), teacher["scores"].float()
    loss = F.binary_cross_entropy_with_logits(s_cls, t_cls.sigmoid())
    s_box, t_box = student["boxes"].float(), teacher["boxes"].float()
    if reg_max > 1:  # distributions over reg_max bins for each of the 4 sides
        b, _, a = s_box.shape
        s_log = F.log_softmax(s_box.view(b, 4, reg_max, a), dim=2)
        t_prob = F.softmax(t_box.view(b, 4, reg_max, a), dim=2)
        loss = loss + F.kl_div(s_log, t_prob, reduction="batchmean") / (4 * a)
    else:
        loss = loss + F.l1_loss(s_box, t_box)
    return loss


def feature_kd(student: dict, teacher: dict) -> torch.Tensor:
    return sum(F.mse_loss(_attention(s), _attention(t)) for s, t in zip(student["feats"], teacher["feats"]))


class DistillationLoss:
    """Detection loss + ``weight`` x distillation loss against a frozen teacher."""

    def __init__(self, base, teacher: nn.Module, mode: str, weight: float):
        self.base, self.teacher, self.mode, self.weight = base, teacher, mode, weight
        self.last_kd = 0.0

    def __getattr__(self, name):  # e.g. ``update()`` of YOLO26's end-to-end loss
        if name in {"base", "teacher", "mode", "weight", "last_kd"}:
            raise AttributeError(name)
        return getattr(self.base, name)

    def __call__(self, preds, batch):
        loss, items = self.base(preds, batch)
        img = batch["img"]
        teacher = self.teacher.to(img.device)
        head = teacher.model[-1]
        with torch.no_grad():
            teacher.eval()
            head.training = True  # raw outputs, eval-mode BatchNorm
            t_preds = teacher(img.to(next(teacher.parameters()).dtype))
            head.training = False
        kd = img.new_zeros(())
        reg_max = getattr(head, "reg_max", 16)
        for s, t in zip(_branches(preds), _branches(t_preds)):
            if self.mode in {"logit", "both"}:
                kd = kd + logit_kd(s, t, reg_max)
            if self.mode in {"feature", "both"}:
                kd = kd + feature_kd(s, t)
        self.last_kd = float(kd.detach())
        batch_size = img.shape[0]
        extra = self.weight * kd * batch_size
        loss = loss + extra / loss.numel() if loss.dim() else loss + extra
        return loss, items


def attach_distillation(model: nn.Module, teacher: nn.Module, mode: str, weight: float) -> None:
    """Wrap ``model``'s Ultralytics loss in :class:`DistillationLoss` (once; a wrapped loss is left as it is)."""
    base = getattr(model, "criterion", None)
    if not isinstance(base, DistillationLoss):
        model.criterion = DistillationLoss(base or model.init_criterion(), teacher, mode, weight)


def log_distillation(trainer) -> None:
    """Log the last batch's distillation loss, if the trainer's model is distilling."""
    kd = getattr(getattr(unwrap_model(trainer.model), "criterion", None), "last_kd", None)
    if kd is not None:
        LOGGER.info(f"yoloprune: distillation loss {kd:.4f}")


class DistillCallbacks:
    """Ultralytics callbacks that distil a frozen ``teacher`` (a dense checkpoint) into the model being trained."""

    def __init__(self, teacher: nn.Module, mode: str = "both", weight: float = 1.0):
        if mode not in {"logit", "feature", "both"}:
            raise ConfigError(f"distill={mode!r}: use logit, feature or both")
        self.teacher, self.mode, self.weight = teacher.float().eval().requires_grad_(False), mode, float(weight)

    @property
    def callbacks(self) -> dict:
        return {"on_pretrain_routine_start": offline.guard_amp_check_if_requested, "on_train_start": self.on_train_start,
                "on_fit_epoch_end": self.on_fit_epoch_end}

    def on_train_start(self, trainer) -> None:
        attach_distillation(unwrap_model(trainer.model), self.teacher, self.mode, self.weight)

    def on_fit_epoch_end(self, trainer) -> None:
        log_distillation(trainer)


def dense_teacher(trainer, model: nn.Module) -> nn.Module:
    """The frozen dense model (as it is at the first prune step), saved beside the run for resumes."""
    path = Path(trainer.save_dir) / "weights" / "dense_teacher.pt"
    if path.exists():
        teacher = torch.load(path, map_location="cpu", weights_only=False)
    else:
        teacher = deepcopy(model).float().eval()
        teacher.criterion = None
        if RANK in {-1, 0}:
            write_torch_atomic(teacher, path)
    return teacher.requires_grad_(False)
