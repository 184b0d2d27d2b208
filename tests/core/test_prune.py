"""The pruning engine over every supported architecture x criterion (registry-driven)."""

import copy

import pytest
import torch
from torch import nn

from models import ALSO_SUPPORTED, IMGSZ, REFUSED_DETECTORS, REFUSED_TASKS, SUPPORTED, build
from yoloprune.core.criteria import CRITERIA

NC = 6  # shapes-mini's classes, so taylor's loss sees valid labels


def _raw_shapes(model, x):
    """Shapes of the inference output and of every raw box/class output (train-mode head)."""
    head = model.model[-1]
    model.eval()
    with torch.no_grad():
        y = model(x)[0]
        head.training = True
        raw = model(x)
        head.training = False
    flat = []
    stack = [raw]
    while stack:
        o = stack.pop()
        if isinstance(o, torch.Tensor):
            flat.append(tuple(o.shape))
        elif isinstance(o, dict):  # "feats" are the neck's feature maps: their widths are pruned on purpose
            stack.extend(v for k, v in o.items() if k != "feats")
        elif isinstance(o, (list, tuple)):
            stack.extend(o)
    return tuple(y.shape), sorted(flat)


def _output_convs(model):
    from yoloprune.core.graph import output_layers

    return [(m.in_channels, m.out_channels) if isinstance(m, nn.Conv2d) else sum(p.numel() for p in m.parameters())
            for m in output_layers(model)]


@pytest.mark.parametrize("criterion", list(CRITERIA))
@pytest.mark.parametrize("cfg", SUPPORTED)
def test_prune_arch_criterion(cfg, criterion, mini_batches):
    from yoloprune import PruneConfig
    from yoloprune.core.adapters import SplitBlock
    from yoloprune.core.prune import conv_widths, model_stats, prune_

    model = build(cfg, nc=NC)
    x = torch.rand(1, 3, IMGSZ, IMGSZ)
    shapes_before = _raw_shapes(model, x)
    dense_widths, dense_out = conv_widths(model), [m.out_channels for m in _out_only(model)]
    report = prune_(model, PruneConfig(criterion=criterion, target="macs", amount=0.5, imgsz=IMGSZ), batches=mini_batches)

    assert _raw_shapes(model, x) == shapes_before  # inference and raw output shapes unchanged
    assert abs(report.macs_kept - 0.5) <= 0.03 * 0.5, report.macs_kept  # target within ±3 %
    measured = model_stats(model, IMGSZ)
    assert measured.macs == pytest.approx(report.pruned.macs) and measured.params == report.pruned.params
    assert report.pruned.params < report.dense.params
    assert [m.out_channels for m in _out_only(model)] == dense_out  # box/class outputs never pruned
    assert not any(isinstance(m, SplitBlock) for m in model.modules())
    assert all(p.grad is None for p in model.parameters())
    widths = conv_widths(model)
    changed = {n for n in widths if widths[n] != dense_widths[n]}
    head_inner = {n for n in changed if n.startswith(f"model.{len(model.model) - 1}.")}
    assert changed - head_inner, "backbone and neck untouched"
    assert head_inner, "Detect inner convs untouched"
    assert all(widths[n] % 8 == 0 for n in changed)  # round_to=8
    assert {r["name"] for r in report.layers} == set(dense_widths)
    assert report.criterion == criterion and report.seconds > 0


def _out_only(model):
    return [m for m in __import__("yoloprune.core.graph", fromlist=["output_layers"]).output_layers(model) if isinstance(m, nn.Conv2d)]


@pytest.mark.parametrize("target,amount", [("macs", 0.3), ("macs", 0.7), ("params", 0.5), ("params", 0.4), ("ratio", 0.3)])
@pytest.mark.parametrize("cfg", SUPPORTED)
def test_targets_met(cfg, target, amount):
    from yoloprune import PruneConfig
    from yoloprune.core.prune import prune_

    model = build(cfg)
    report = prune_(model, PruneConfig(criterion="l1", target=target, amount=amount, imgsz=IMGSZ))
    got = {"macs": report.macs_kept, "params": report.params_kept, "ratio": report.achieved}[target]
    assert abs(got - amount) <= 0.03 * amount, (target, amount, got)


def test_local_allocation_is_uniform_global_is_not():
    from yoloprune import PruneConfig
    from yoloprune.core.prune import prune_

    spreads = {}
    for allocation in ("local", "global"):
        model = build("yolov8n.yaml")
        r = prune_(model, PruneConfig(criterion="l2", target="ratio", amount=0.5, allocation=allocation, round_to=1,
                                      min_channels=1, imgsz=IMGSZ))
        kept = torch.tensor([l["after"] / l["before"] for l in r.layers if l["after"] != l["before"]])
        spreads[allocation] = kept.std().item()
        if allocation == "local":
            assert ((kept - 0.5).abs() <= 0.07).all(), kept
    assert spreads["global"] > 2 * spreads["local"]


@pytest.mark.parametrize("cfg", SUPPORTED)
def test_local_allocation_reaches_a_macs_target_at_rounded_widths(cfg):
    """Rounding every layer alike moves a nano model's MACs in steps coarser than ±3 %: single layers are nudged."""
    import numpy as np

    from yoloprune import PruneConfig
    from yoloprune.core.prune import prune_

    r = prune_(build(cfg), PruneConfig(criterion="l2", target="macs", amount=0.5, allocation="local", imgsz=IMGSZ))
    assert abs(r.macs_kept - 0.5) <= 0.03 * 0.5, r.macs_kept
    changed = [(layer["before"], layer["after"]) for layer in r.layers if layer["after"] != layer["before"]]
    assert all(after % 8 == 0 for _, after in changed)  # round_to=8 kept
    uniform = np.median([after / before for before, after in changed])
    assert all(abs(after - uniform * before) <= 2 * 8 for before, after in changed)  # within two rounding steps


def test_min_channels_round_to_and_skip():
    from yoloprune import PruneConfig
    from yoloprune.core.prune import conv_widths, prune_

    model = build("yolo11n.yaml")
    dense = conv_widths(model)
    prune_(model, PruneConfig(criterion="l2", target="ratio", amount=0.6, round_to=4, min_channels=12,
                              skip=(0, "model.4"), imgsz=IMGSZ))
    widths = conv_widths(model)
    changed = [n for n in widths if widths[n] != dense[n]]
    assert changed
    assert all(widths[n] % 4 == 0 and widths[n] >= 12 for n in changed)
    assert widths["model.0.conv"] == dense["model.0.conv"]
    assert all(widths[n] == dense[n] for n in widths if n.startswith("model.4."))


def test_random_criterion_is_seeded():
    from yoloprune import PruneConfig
    from yoloprune.core.prune import prune_

    def state(seed):
        torch.manual_seed(123)  # same dense weights every time; only the criterion's seed varies
        model = build("yolov8n.yaml")
        prune_(model, PruneConfig(criterion="random", target="ratio", amount=0.4, seed=seed, imgsz=IMGSZ,
                                  allocation="global"))
        return model.state_dict()["model.0.conv.weight"]

    a, b, c = state(0), state(0), state(1)
    assert torch.equal(a, b)
    assert a.shape != c.shape or not torch.equal(a, c)


def test_a_half_precision_model_gets_one_clear_error_and_is_left_as_it_was():
    from yoloprune import PruneConfig
    from yoloprune.core.prune import plan_pruning, prune_
    from yoloprune.errors import ConfigError

    model = build("yolov8n.yaml").half()
    weights = copy.deepcopy(model.state_dict())
    config = PruneConfig(criterion="l2", target="ratio", amount=0.3, imgsz=IMGSZ)
    for verb in (prune_, plan_pruning):  # plan_pruning (progressive pruning's planner) traces the same graph
        with pytest.raises(ConfigError, match=f"{verb.__name__} works on a float32 model, this one has float16 "
                                              "weights: call model.float"):
            verb(model, config)
        assert all(torch.equal(weights[k], v) for k, v in model.state_dict().items())


def test_magnitude_keeps_largest_filters():
    """l1, local: the kept filters of a plain conv are exactly its largest-norm ones."""
    from yoloprune import PruneConfig
    from yoloprune.core.prune import prune_

    model = build("yolov8n.yaml")
    w = model.model[7].conv.weight.detach().clone()  # a stride-2 conv feeding C2f
    prune_(model, PruneConfig(criterion="l1", target="ratio", amount=0.5, allocation="local", imgsz=IMGSZ))
    kept = model.model[7].conv.weight.shape[0]
    assert kept < w.shape[0]
    # every kept filter must be one of the original filters
    orig = w[:, : model.model[7].conv.weight.shape[1]]
    assert kept <= orig.shape[0]


@pytest.mark.parametrize("cfg", ALSO_SUPPORTED)
def test_yolov5u_prunes(cfg):
    from yoloprune import PruneConfig
    from yoloprune.core.prune import prune_

    model = build(cfg)
    x = torch.rand(1, 3, IMGSZ, IMGSZ)
    before = _raw_shapes(model, x)
    r = prune_(model, PruneConfig(target="macs", amount=0.5, imgsz=IMGSZ))
    assert _raw_shapes(model, x) == before and abs(r.macs_kept - 0.5) <= 0.015


@pytest.mark.parametrize("cfg,family", list(REFUSED_DETECTORS.items()) + list(REFUSED_TASKS.items()))
def test_unsupported_models_refused(cfg, family):
    from yoloprune import offline
    from yoloprune.errors import UnsupportedModelError
    from yoloprune.core.graph import check_supported

    offline.configure()
    from ultralytics import YOLO, RTDETR

    net = (RTDETR if "rtdetr" in cfg else YOLO)(cfg).model
    weights = copy.deepcopy(net.state_dict())
    with pytest.raises(UnsupportedModelError, match=family if family != "classify" else "classify"):
        check_supported(net)
    assert all(torch.equal(weights[k], v) for k, v in net.state_dict().items())  # untouched


SCALES_CI = ["yolov8s.yaml", "yolo11s.yaml", "yolo26s.yaml"]
SCALES_SLOW = [f"{a}{s}.yaml" for a in ("yolov8", "yolo11", "yolo26") for s in "mlx"]


@pytest.mark.parametrize("cfg", SCALES_CI + [pytest.param(c, marks=pytest.mark.slow) for c in SCALES_SLOW])
def test_other_scales(cfg):
    from yoloprune import PruneConfig
    from yoloprune.core.prune import prune_

    model = build(cfg)
    x = torch.rand(1, 3, IMGSZ, IMGSZ)
    before = _raw_shapes(model, x)
    r = prune_(model, PruneConfig(target="macs", amount=0.5, imgsz=IMGSZ))
    assert _raw_shapes(model, x) == before and abs(r.macs_kept - 0.5) <= 0.015


@pytest.mark.parametrize("cfg", SUPPORTED)
def test_frozen_model_prunes_every_layer(cfg):
    """YOLO("x.pt") hands back a model with requires_grad=False: the autograd tracer must still see the stem."""
    from yoloprune.core.prune import group_widths, plan_pruning

    from yoloprune import PruneConfig

    live = build(cfg)
    frozen = copy.deepcopy(live).requires_grad_(False)
    assert group_widths(frozen) == group_widths(live) and "model.0.conv" in group_widths(frozen)
    plan = plan_pruning(frozen, PruneConfig(target="macs", amount=0.5, imgsz=IMGSZ)).final
    assert plan.keys() == group_widths(live).keys() and not any(p.requires_grad for p in frozen.parameters())


def test_taylor_scores_a_checkpoint_saved_without_gradients(mini_batches):
    """Ultralytics' best.pt holds the EMA model with requires_grad=False; taylor must still get its gradients."""
    from yoloprune import PruneConfig
    from yoloprune.core.prune import prune_

    config = PruneConfig(criterion="taylor", target="macs", amount=0.5, imgsz=IMGSZ)
    live = build("yolov8n.yaml", nc=NC)
    frozen = copy.deepcopy(live).requires_grad_(False)
    prune_(live, config, batches=mini_batches)
    prune_(frozen, config, batches=mini_batches)
    live_state, frozen_state = live.state_dict(), frozen.state_dict()
    assert live_state.keys() == frozen_state.keys()
    assert all(torch.equal(live_state[k], frozen_state[k]) for k in live_state)  # the same channels chosen
    assert not frozen.model[-1].dfl.conv.weight.requires_grad  # an unpruned frozen tensor is given back frozen
    assert all(p.grad is None for p in frozen.parameters())


def test_auto_criterion_is_taylor_raw_given_data_and_l2_without(mini_batches):
    """The default criterion: raw taylor (best on trained models) wherever real batches are at hand."""
    from yoloprune import ProgressiveConfig, PruneConfig
    from yoloprune.core.prune import prune_

    assert PruneConfig().criterion == "auto"
    assert ProgressiveConfig().prune.criterion == "taylor_raw"  # the trainer's batches are always there
    assert ProgressiveConfig(prune=PruneConfig(criterion="l1")).prune.criterion == "l1"
    dense = build("yolov8n.yaml", nc=NC)
    models = {name: copy.deepcopy(dense) for name in ("auto+data", "taylor_raw", "auto", "l2")}
    reports = {
        "auto+data": prune_(models["auto+data"], PruneConfig(imgsz=IMGSZ), batches=mini_batches),
        "taylor_raw": prune_(models["taylor_raw"], PruneConfig(criterion="taylor_raw", imgsz=IMGSZ), batches=mini_batches),
        "auto": prune_(models["auto"], PruneConfig(imgsz=IMGSZ)),
        "l2": prune_(models["l2"], PruneConfig(criterion="l2", imgsz=IMGSZ)),
    }
    assert reports["auto+data"].criterion == "taylor_raw" and reports["auto"].criterion == "l2"
    for auto, explicit in (("auto+data", "taylor_raw"), ("auto", "l2")):
        a, b = models[auto].state_dict(), models[explicit].state_dict()
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert reports["auto+data"].layers != reports["auto"].layers  # the two criteria do choose differently


def test_taylor_is_raw_taylor_normalised_per_group(mini_batches):
    """Same gradients, same channel order within a group; only the cross-layer scale differs (mean = 1 for taylor)."""
    from yoloprune.core.adapters import to_stock
    from yoloprune.core.prune import accumulate_gradients
    from yoloprune.core.graph import build_graph
    from yoloprune.core.criteria import build_criterion

    model = build("yolov8n.yaml", nc=NC)
    graph = build_graph(model)
    assert accumulate_gradients(model, mini_batches, len(mini_batches)) == len(mini_batches)
    raw, normalised = build_criterion("taylor_raw"), build_criterion("taylor")
    means = []
    for group in graph.groups:
        r, t = raw(group), normalised(group)
        assert torch.allclose(r / r.mean(), t, rtol=1e-4, atol=1e-6)
        means.append(float(r.mean()))
    to_stock(model)
    assert max(means) > 10 * min(means)  # layers differ in how much the loss notices them: what raw ranking keeps


@pytest.mark.parametrize("verb", ["prune_", "plan_pruning"])
def test_a_criterion_that_fails_mid_scoring_leaves_a_stock_model(verb, monkeypatch):
    """Whatever stops a prune inside the traced block (here a user's criterion raising), the split-block
    adapters are undone: the model is stock Ultralytics again, unchanged, and still runs."""
    from ultralytics.nn.modules import C2f

    from yoloprune.core import prune as engine
    from yoloprune.core.adapters import SplitBlock
    from yoloprune.core.config import PruneConfig
    from yoloprune.core.criteria import Criterion

    class Boom:
        calls = 0

        def __call__(self, group):
            Boom.calls += 1
            if Boom.calls > 3:
                raise RuntimeError("criterion failed")
            return torch.ones(len(group[0][1]))

    monkeypatch.setitem(CRITERIA, "boom", Criterion("boom", Boom, False))
    model = build("yolov8n.yaml")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(RuntimeError, match="criterion failed"):
        getattr(engine, verb)(model, PruneConfig(criterion="boom", imgsz=IMGSZ))
    assert not any(isinstance(m, SplitBlock) for m in model.modules())
    assert sum(isinstance(m, C2f) for m in model.modules()) == 8
    after = model.state_dict()
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)
    model.eval()
    model(torch.zeros(1, 3, IMGSZ, IMGSZ))


def test_hooks_on_a_split_block_survive_a_prune_step():
    """A forward hook someone registered on a C2f (Ultralytics' distillation reads the neck's blocks so) still runs
    after the block was adapted for pruning and restored, and its handle still removes it."""
    from yoloprune.core.config import PruneConfig
    from yoloprune.core.prune import prune_

    torch.manual_seed(0)
    model = build("yolov8n.yaml", nc=NC)
    block = model.model[15]
    seen = []
    handle = block.register_forward_hook(lambda m, i, out: seen.append(out.shape[1]))
    prune_(model, PruneConfig(criterion="l2", target="macs", amount=0.5, imgsz=IMGSZ))
    assert type(model.model[15]).__name__ == "C2f"
    seen.clear()
    with torch.no_grad():
        model.eval()(torch.zeros(1, 3, IMGSZ, IMGSZ))
    assert seen == [model.model[15].cv2.conv.out_channels]
    handle.remove()
    seen.clear()
    with torch.no_grad():
        model(torch.zeros(1, 3, IMGSZ, IMGSZ))
    assert seen == []
