"""Sparsity proximal steps and the distillation loss, on real Ultralytics modules."""

import copy

import pytest
import torch

from models import build


def test_bn_l1_prox_soft_thresholds():
    from yoloprune.core.sparsity import bn_l1_prox

    model = build("yolov8n.yaml")
    bn = model.model[0].bn
    bn.weight.data = torch.linspace(-0.02, 0.02, bn.weight.numel())
    before = bn.weight.detach().clone()
    bn_l1_prox(model, 0.01)
    expected = torch.sign(before) * (before.abs() - 0.01).clamp(min=0)
    assert torch.allclose(bn.weight, expected)
    assert (bn.weight == 0).sum() > 0


def test_group_lasso_prox_shrinks_filter_norms_and_skips():
    from yoloprune.core.sparsity import group_lasso_prox

    model = build("yolov8n.yaml")
    conv, kept = model.model[1].conv, model.model[0].conv
    norms = conv.weight.detach().flatten(1).norm(dim=1).clone()
    kept_w = kept.weight.detach().clone()
    step = float(norms.median())
    group_lasso_prox(model, step, skip={id(kept)})
    after = conv.weight.flatten(1).norm(dim=1)
    assert torch.allclose(after, (norms - step).clamp(min=0), atol=1e-5)
    assert torch.equal(kept.weight, kept_w)


@pytest.mark.parametrize("cfg", ["yolov8n.yaml", "yolo26n.yaml"])
@pytest.mark.parametrize("mode", ["logit", "feature", "both"])
def test_distillation_loss(cfg, mode, mini_batches):
    from yoloprune import PruneConfig
    from yoloprune.callbacks.distill import DistillationLoss
    from yoloprune.core.prune import prune_
    from ultralytics.cfg import get_cfg

    torch.manual_seed(0)
    teacher = build(cfg, nc=6)
    student = copy.deepcopy(teacher)
    prune_(student, PruneConfig(target="macs", amount=0.5, imgsz=64))
    student.args = get_cfg()
    batch = mini_batches[0]
    head = student.model[-1]
    student.train()
    base_loss, base_items = student.loss(batch)
    student.criterion = DistillationLoss(student.init_criterion(), teacher, mode, weight=1.0)
    t_before = [p.detach().clone() for p in teacher.parameters()]
    loss, items = student.loss(batch)
    assert student.criterion.last_kd > 0
    assert set(items) == set(base_items)  # logged loss items unchanged
    loss.sum().backward()
    assert all(p.grad is not None for p in head.cv3.parameters())  # the student learns from it
    assert all(p.grad is None for p in teacher.parameters())  # the teacher is frozen
    assert all(torch.equal(a, b) for a, b in zip(t_before, teacher.parameters()))
    # the same student against itself (both with eval-mode BatchNorm): nothing left to distil
    student.eval()
    head.training = True
    student.criterion = DistillationLoss(student.init_criterion(), copy.deepcopy(student), "feature", weight=1.0)
    student.loss(batch)
    assert student.criterion.last_kd == pytest.approx(0.0, abs=1e-6)
