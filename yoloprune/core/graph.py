"""What may be pruned in an Ultralytics detector, and Torch-Pruning's DependencyGraph over it.

``check_supported`` refuses, with a reason, models the engine does not handle. ``build_graph``
swaps in the split-block adapters, marks the layers that must keep their channels (Detect's
box/class output convs, the DFL, attention internals, user skips) and traces the model once with
Torch-Pruning's ``DependencyGraph``.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch_pruning as tp
from torch import nn

from ultralytics.nn.modules import C2PSA, C3, SPPF, C2f, C3k2, Concat, Conv, Detect
from ultralytics.nn.modules.block import Attention
from ultralytics.nn.tasks import DetectionModel

from .adapters import split_pairs, to_prunable, to_stock
from ..errors import ConfigError, UnsupportedModelError
from .modes import model_mode

# top-level layer types whose pruning is implemented and tested (exact types: subclasses such as
# v10Detect, C2fCIB or C2fAttn bring other blocks with them and are refused by name)
SUPPORTED_LAYERS = (Conv, C2f, C3k2, C3, SPPF, C2PSA, Concat, nn.Upsample, Detect)
FAMILY_HINTS = {
    "RepNCSPELAN4": "YOLOv9",
    "ADown": "YOLOv9",
    "SCDown": "YOLOv10",
    "PSA": "YOLOv10",
    "C2fCIB": "YOLOv10",
    "v10Detect": "YOLOv10",
    "A2C2f": "YOLO12",
    "AIFI": "RT-DETR",
    "RTDETRDecoder": "RT-DETR",
}


def check_supported(model: nn.Module, verb: str = "pruning") -> None:
    """Raise :class:`UnsupportedModelError` unless ``model`` is a YOLOv8/YOLO11/YOLO26 (or v5u) detector, and
    :class:`ConfigError` (naming ``verb``) unless its parameters are float32: the graph is traced, and MACs and
    gradient scores computed, with float32 inputs."""
    if type(model) is not DetectionModel:
        task = {"Segmentation": "segment", "Pose": "pose", "OBB": "obb", "Classification": "classify"}
        name = type(model).__name__
        kind = next((v for k, v in task.items() if k in name), "RT-DETR" if "RTDETR" in name else name)
        raise UnsupportedModelError(
            f"yoloprune prunes object-detection models only; got a {kind} model ({name}). "
            "Use a detect model such as yolov8n.yaml, yolo11n.yaml or yolo26n.yaml (or a checkpoint trained from one)."
        )
    odd = sorted({type(m).__name__ for m in model.model if not type(m) in SUPPORTED_LAYERS})
    if odd:
        families = sorted({FAMILY_HINTS[n] for n in odd if n in FAMILY_HINTS})
        family = f" ({', '.join(families)})" if families else ""
        raise UnsupportedModelError(
            f"this detector{family} uses blocks yoloprune cannot prune yet: {', '.join(odd)}. "
            "Supported: YOLOv8, YOLO11, YOLO26 and YOLOv5u detect models in every scale."
        )
    dtypes = sorted({str(p.dtype).removeprefix("torch.") for p in model.parameters()} - {"float32"})
    if dtypes:
        raise ConfigError(f"{verb} works on a float32 model, this one has {', '.join(dtypes)} weights: call "
                          "model.float() before pruning (and .half() / .bfloat16() after, for inference)")


class _FrozenAttention(tp.pruner.function.BasePruningFunc):
    """Makes Ultralytics' ``Attention`` a leaf for the tracer (tracing into it runs out of memory)."""

    def prune_out_channels(self, layer, idxs):
        raise RuntimeError("attention internals are never pruned")

    prune_in_channels = prune_out_channels

    def get_out_channels(self, layer):
        return layer.proj.conv.out_channels

    def get_in_channels(self, layer):
        return layer.qkv.conv.in_channels


def output_layers(model: DetectionModel) -> list[nn.Module]:
    """Layers whose output channels define the model's outputs: Detect's last box/class convs and the DFL."""
    head = model.model[-1]
    keep = [seq[-1] for name in ("cv2", "cv3", "one2one_cv2", "one2one_cv3") for seq in (getattr(head, name, None) or [])]
    if isinstance(getattr(head, "dfl", None), nn.Module):
        keep.append(head.dfl)
    return keep


def skipped_layers(model: nn.Module, skip) -> list[nn.Module]:
    """Modules named by ``skip``: ints are ``model.<i>`` indices, strings module-name prefixes."""
    prefixes = [f"model.{s}" if isinstance(s, int) else str(s) for s in skip]
    named = dict(model.named_modules())
    missing = [p for p in prefixes if not any(n == p or n.startswith(p + ".") for n in named)]
    if missing:
        raise ConfigError(f"skip names no layer of this model: {missing} (use indices like 0 or names like 'model.22.cv2')")
    return [m for n, m in named.items() if any(n == p or n.startswith(p + ".") for p in prefixes)]


def _tensors(out) -> list[torch.Tensor]:
    """Every tensor in a nested output (tuple / list / dict), for the tracer."""
    if isinstance(out, torch.Tensor):
        return [out]
    if isinstance(out, dict):
        out = list(out.values())
    if isinstance(out, (list, tuple)):
        return [t for o in out for t in _tensors(o)]
    return []


@dataclass
class PruneGraph:
    """A model prepared for pruning: adapters in place, graph traced, prunable groups listed."""

    model: nn.Module
    dg: tp.DependencyGraph
    groups: list  # one full-index Torch-Pruning Group per prunable channel set
    pairs: list[tuple[int, int]]  # indices into groups that must keep equal widths (split halves)


def build_graph(model: DetectionModel, skip=(), trace_size: int = 64) -> PruneGraph:
    """Adapt ``model`` in place and trace it; :func:`traced` undoes the adapters when its block ends."""
    check_supported(model)
    frozen = [*output_layers(model), *skipped_layers(model, skip)]
    to_prunable(model)
    frozen += [m for m in model.modules() if isinstance(m, Attention)]
    x = torch.zeros(1, 3, trace_size, trace_size, device=next(model.parameters()).device)
    # eval: BN statistics untouched, and YOLO26's one-to-one head is not detached; grads on: the tracer
    # follows autograd, and a frozen layer (YOLO("x.pt") freezes all) would be invisible to it
    with model_mode(model, training=False, grads=True):
        dg = tp.DependencyGraph().build_dependency(
            model,
            example_inputs=x,
            output_transform=lambda out: _tensors(out[1] if isinstance(out, tuple) else out),
            customized_pruners={Attention: _FrozenAttention()},
        )
    ignored = list({id(m): m for f in frozen for m in f.modules()}.values())
    groups = list(dg.get_all_groups(ignored_layers=ignored, root_module_types=[nn.Conv2d]))
    owner = _out_channel_owner(dg, groups)
    halves = split_pairs(model)
    # a half whose channels cannot be pruned (e.g. it feeds attention) pins its twin: stock blocks need equal halves
    pinned = {owner.get(h) for a, b in halves if a not in owner or b not in owner for h in (a, b)}
    groups = [g for i, g in enumerate(groups) if i not in pinned]
    owner = _out_channel_owner(dg, groups)
    pairs = [(owner[a], owner[b]) for a, b in halves if a in owner and b in owner]
    return PruneGraph(model, dg, groups, pairs)


@contextmanager
def traced(model: DetectionModel, skip=()):
    """``with traced(model) as graph:`` — :func:`build_graph`, and on leaving the block, however it is left
    (done, a bad config, a criterion's exception, Ctrl-C), the adapters undone: pruned or not, the model is a
    stock Ultralytics model again, with no gradients left from scoring."""
    try:
        yield build_graph(model, skip=skip)
    finally:
        to_stock(model)
        model.zero_grad(set_to_none=True)


def _out_channel_owner(dg: tp.DependencyGraph, groups: list) -> dict[nn.Module, int]:
    """Map each module to the index of the group that prunes its output channels."""
    return {
        dep.target.module: i for i, g in enumerate(groups) for dep, _ in g if dg.is_out_channel_pruning_fn(dep.handler)
    }
