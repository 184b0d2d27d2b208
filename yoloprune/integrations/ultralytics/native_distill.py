"""Ultralytics' own knowledge distillation (``distill_model=<teacher .pt>``, ``dis=<weight>`` in the train arguments)
with a student that is pruned, or gets pruned while it trains.

Ultralytics wraps the student in a ``DistillationModel``: the frozen teacher, and one projector per neck level (a
1x1 convolution from the student's feature channels to the teacher's, then ReLU and another 1x1) whose output is
compared with the teacher's features, weighted by the teacher's scores. A student pruned before training simply
gets projectors of its own widths. Pruning *during* training (the callbacks) removes channels of the very
features the projectors read: :class:`Projectors` finds the convolution each projector reads and, after a prune
step, drops the projector's input weights of the channels that went, so the learned projection carries on.
"""

from __future__ import annotations

import torch
from torch import nn
from ultralytics.nn.distill_model import DistillationModel  # (re-exported for the callbacks)

from ...errors import ConfigError


def student_of(model: nn.Module) -> nn.Module:
    """The model being trained: the student inside Ultralytics' ``DistillationModel``, else ``model`` itself."""
    return model.student_model if isinstance(model, DistillationModel) else model


def distilling(trainer) -> bool:
    """Whether the trainer runs Ultralytics' own distillation (its ``distill_model`` argument is set)."""
    return getattr(trainer.args, "distill_model", None) is not None


class Projectors:
    """Ultralytics' distillation projectors and, for each, the student convolution whose output channels it reads.

    Used around a prune step (``with Projectors(wrapper) as projectors: prune_(..., on_removed=projectors.follow)``):
    inside, the wrapper's feature hooks are off (pruning runs the student forward and copies it; the hooks would
    catch features in the autograd graph, which a copy cannot take), and :meth:`follow` makes the projectors' first
    1x1 convolutions lose the input channels their convolution lost. Leaving, the hooks are on again, on the
    pruned student."""

    def __init__(self, wrapper: DistillationModel):
        self.wrapper = wrapper
        self.convs: list[nn.Conv2d] = []

    def __enter__(self) -> Projectors:
        wrapper = self.wrapper
        wrapper._remove_feature_hooks()
        wrapper._student_feats.clear()
        wrapper._teacher_feats.clear()
        try:
            self.convs = self._find_convs()
        except BaseException:
            wrapper._register_feature_hooks()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.wrapper._student_feats.clear()
        self.wrapper._register_feature_hooks()

    def _find_convs(self) -> list[nn.Conv2d]:
        """For each level the projectors read, the convolution whose Conv-BN-activation output *is* the block's
        output (found in one forward pass of the student; outputs kept alive so identity is exact)."""
        wrapper = self.wrapper
        student = wrapper.student_model
        blocks = [student.model[i] for i in wrapper.feats_idx[:-1]]
        produced, returned = [], {}  # (output, Conv wrapper) of every conv in the blocks; each block's output
        hooks = [m.register_forward_hook(lambda mod, _i, out: produced.append((out, mod)))
                 for b in blocks for m in b.modules() if isinstance(getattr(m, "conv", None), nn.Conv2d)]
        hooks += [b.register_forward_hook(lambda _m, _i, out, k=k: returned.__setitem__(k, out))
                  for k, b in enumerate(blocks)]
        p = next(student.parameters())
        was_training = student.training
        student.eval()
        try:
            with torch.no_grad():
                student.predict(torch.zeros(1, 3, 64, 64, device=p.device, dtype=p.dtype))
        finally:
            for h in hooks:
                h.remove()
            student.train(was_training)
        convs = []
        for k, (i, block) in enumerate(zip(wrapper.feats_idx, blocks)):
            source = next((mod for out, mod in produced if out is returned.get(k)), None)
            if source is None:
                raise ConfigError(f"Ultralytics' distillation reads layer {i} ({type(block).__name__}), whose output "
                                  "is not one convolution's: its projector cannot follow pruning there; prune the "
                                  "model first and distil while fine-tuning it, or use distill=both")
            convs.append(source.conv)
        for conv, proj in zip(convs, self._inputs()):
            if conv.out_channels != proj.in_channels:
                raise ConfigError(f"a distillation projector reads {proj.in_channels} channels where the student has "
                                  f"{conv.out_channels}: this DistillationModel was not built on this student")
        return convs

    def _inputs(self) -> list[nn.Conv2d]:
        return [p[0] for p in self.wrapper.projector]

    def follow(self, removed: dict[nn.Module, list[int]]) -> None:
        """Drop each projector's input weights of the channels its convolution lost (``removed``: by module, the
        indices lost, as :func:`~yoloprune.core.prune.prune_` reports them)."""
        for conv, proj in zip(self.convs, self._inputs()):
            lost = set(removed.get(conv, ()))
            if not lost:
                continue
            keep = torch.tensor([c for c in range(proj.in_channels) if c not in lost], device=proj.weight.device)
            proj.weight = nn.Parameter(proj.weight.detach().index_select(1, keep).contiguous(),
                                       requires_grad=proj.weight.requires_grad)
            proj.in_channels = len(keep)
