"""Ultralytics' own distillation (distill_model=, dis=) with a pruned student, and with a student the callbacks prune
while it trains: the distillation term is in the loss, the student keeps its pruned widths, the projectors follow
every prune step, and the checkpoint reloads in stock Ultralytics."""

import csv

import pytest
import torch

from yoloprune.core.stats import conv_widths

IMGSZ = 64


def _wrapper(student, teacher):
    from ultralytics.cfg import get_cfg
    from ultralytics.nn.distill_model import DistillationModel

    student.args = get_cfg(overrides={"imgsz": IMGSZ})
    return DistillationModel(teacher_model=teacher, student_model=student)


def test_the_projectors_follow_a_prune_step_channel_for_channel(dense_ckpt, mini_batches):
    """Each projector loses exactly the input weights of the channels its student convolution lost (checked against
    the convolution's own BatchNorm, randomised so every channel is told apart), and the distillation loss runs."""
    from yoloprune.core.config import PruneConfig
    from yoloprune.core.prune import prune_
    from yoloprune.integrations.ultralytics.model_io import load_model
    from yoloprune.integrations.ultralytics.native_distill import Projectors

    torch.manual_seed(0)
    teacher, student = load_model(dense_ckpt)[0], load_model(dense_ckpt)[0]
    for m in student.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.weight.data = torch.rand_like(m.weight) + 0.5
    wrapper = _wrapper(student, teacher)
    bns = [student.model[i].cv2.bn for i in wrapper.feats_idx[:-1]]  # what each level returns: its cv2
    before = [(bn.weight.detach().clone(), p[0].weight.detach().clone()) for bn, p in zip(bns, wrapper.projector)]
    with Projectors(wrapper) as projectors:
        assert len(projectors.convs) == 3  # the neck's three levels (layers 15, 18, 21 of a YOLOv8)
        assert projectors.convs == [student.model[i].cv2.conv for i in wrapper.feats_idx[:-1]]
        assert not any(b._forward_hooks for b in (student.model[i] for i in wrapper.feats_idx))  # hooks off
        prune_(student, PruneConfig(criterion="l2", target="macs", amount=0.5, imgsz=IMGSZ),
               on_removed=projectors.follow)
    for bn, proj, (bn_w, proj_w) in zip(bns, wrapper.projector, before):
        keep = [int((bn_w == w).nonzero()) for w in bn.weight.detach()]  # where each kept channel was
        assert len(keep) < len(bn_w) and proj[0].in_channels == len(keep) == bn.num_features
        assert torch.equal(proj[0].weight.detach(), proj_w[:, keep])
    wrapper.train()
    batch = mini_batches[0]
    loss, items = wrapper.loss(batch)
    assert items["dis_loss"] > 0 and torch.isfinite(loss).all()


def test_the_callbacks_prune_a_student_ultralytics_distils(mini_data, dense_ckpt, tmp_path):
    """A normal train() with Ultralytics' distill_model= and the pruning callbacks: the student is pruned on schedule
    (not the teacher, not the wrapper), the projectors keep reading its channels, the distillation term is logged
    every epoch, and best.pt is the pruned student, stamped, loadable by stock Ultralytics."""
    from ultralytics import YOLO as StockYOLO

    from yoloprune import YOLO
    from yoloprune.callbacks import add_pruning_callbacks

    model = YOLO(str(dense_ckpt))
    cb = add_pruning_callbacks(model, target="macs", amount=0.5, steps=2, start_epoch=0, end_epoch=1, imgsz=IMGSZ,
                               criterion="l2", schedule="linear")
    seen = []

    def check(trainer):
        from ultralytics.utils.torch_utils import unwrap_model

        wrapper = unwrap_model(trainer.model)
        student = wrapper.student_model
        reads = [student.model[i].cv2.conv.out_channels for i in wrapper.feats_idx[:-1]]
        seen.append({"reads": reads, "projects": [p[0].in_channels for p in wrapper.projector],
                     "teacher": conv_widths(wrapper.teacher_model), "student": conv_widths(student)})

    model.add_callback("on_train_epoch_end", check)
    model.train(data=str(mini_data), epochs=3, imgsz=IMGSZ, batch=8, workers=0, plots=False, project=str(tmp_path),
                name="run", exist_ok=True, amp=False, warmup_epochs=0, distill_model=str(dense_ckpt), dis=6.0)
    dense = conv_widths(StockYOLO(str(dense_ckpt)).model)
    assert len(cb.history) == 2 and all(s["reads"] == s["projects"] for s in seen)
    assert all(s["teacher"] == dense for s in seen) and seen[-1]["student"] != dense
    rows = list(csv.DictReader(open(tmp_path / "run" / "results.csv")))
    assert all(float(r["train/dis_loss"]) > 0 for r in rows)
    best = StockYOLO(str(tmp_path / "run" / "weights" / "best.pt")).model
    assert type(best).__name__ == "DetectionModel" and conv_widths(best) == seen[-1]["student"]
    assert best.yoloprune["complete"] and len(best.yoloprune["history"]) == 2


def test_two_distillations_at_once_are_refused(mini_data, dense_ckpt, tmp_path):
    from yoloprune import YOLO
    from yoloprune.callbacks import add_pruning_callbacks
    from yoloprune.errors import ConfigError

    model = YOLO(str(dense_ckpt))
    add_pruning_callbacks(model, target="macs", amount=0.5, imgsz=IMGSZ, distill="both")
    with pytest.raises(ConfigError, match="both distil: keep one"):
        model.train(data=str(mini_data), epochs=1, imgsz=IMGSZ, batch=8, workers=0, project=str(tmp_path),
                    distill_model=str(dense_ckpt))


def test_a_pruned_student_fine_tunes_with_ultralytics_distillation(pruned_run, dense_ckpt, mini_data, tmp_path):
    """yoloprune's fine-tune with Ultralytics' own distillation from the dense model: the distillation term is in
    the loss, the student keeps its pruned widths, and the checkpoint reloads in stock Ultralytics."""
    from ultralytics import YOLO as StockYOLO

    from yoloprune.workflows.finetune import finetune

    pruned = pruned_run.checkpoint
    widths = conv_widths(StockYOLO(str(pruned)).model)
    result = finetune(pruned, data=mini_data, epochs=1, project=tmp_path, name="ft", distill="native",
                      teacher=dense_ckpt, train_args={"imgsz": IMGSZ, "batch": 8, "workers": 0, "plots": False,
                                                      "amp": False, "warmup_epochs": 0})
    rows = list(csv.DictReader(open(result.run_dir / "results.csv")))
    assert float(rows[-1]["train/dis_loss"]) > 0
    assert conv_widths(StockYOLO(str(result.checkpoint)).model) == widths


def test_pruning_while_training_distils_natively_from_the_model_it_prunes(mini_data, dense_ckpt, tmp_path):
    """prune_progressive(distill="native"): Ultralytics' distillation with the checkpoint being pruned as teacher
    for the whole run; best.pt is the pruned student, reloadable by stock Ultralytics."""
    from ultralytics import YOLO as StockYOLO

    from yoloprune.workflows.progressive import prune_progressive

    result = prune_progressive(dense_ckpt, data=mini_data, epochs=2, project=tmp_path, name="run", target="macs",
                               amount=0.5, steps=1, start_epoch=0, end_epoch=0, imgsz=IMGSZ, criterion="l2",
                               distill="native", train_args={"batch": 8, "workers": 0, "plots": False, "amp": False,
                                                             "warmup_epochs": 0})
    rows = list(csv.DictReader(open(result.run_dir / "results.csv")))
    assert len(rows) == 2 and all(float(r["train/dis_loss"]) > 0 for r in rows)
    best = StockYOLO(str(result.checkpoint)).model
    assert conv_widths(best) != conv_widths(StockYOLO(str(dense_ckpt)).model)
    assert best.yoloprune["config"]["distill"] == "native" and best.yoloprune["complete"]


def test_native_distillation_needs_its_teacher(mini_data, dense_ckpt, tmp_path):
    """distill=native in the callbacks without Ultralytics' distill_model=, or from a YAML (nothing trained to
    teach), or with yoloprune's distill_weight: one error naming the fix each."""
    from yoloprune import YOLO
    from yoloprune.callbacks import add_pruning_callbacks
    from yoloprune.core.config import ProgressiveConfig
    from yoloprune.errors import ConfigError
    from yoloprune.workflows.progressive import prune_progressive

    model = YOLO(str(dense_ckpt))
    add_pruning_callbacks(model, target="macs", amount=0.5, imgsz=IMGSZ, distill="native")
    with pytest.raises(ConfigError, match="distill_model=<the dense .pt>"):
        model.train(data=str(mini_data), epochs=1, imgsz=IMGSZ, batch=8, workers=0, project=str(tmp_path))
    with pytest.raises(ConfigError, match="give model=<trained .pt>"):
        prune_progressive("yolov8n.yaml", data=mini_data, epochs=1, project=tmp_path, imgsz=IMGSZ, distill="native")
    with pytest.raises(ConfigError, match="dis= train argument"):
        ProgressiveConfig.of(distill="native", distill_weight=2.0)
    assert ProgressiveConfig.of(distill="native").distill == "native"
