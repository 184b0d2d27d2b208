"""Split-block adapters reproduce the stock blocks bit for bit, and merge back into stock classes."""

import copy

import pytest
import torch

from models import SUPPORTED, build


@pytest.mark.parametrize("cfg", SUPPORTED)
@pytest.mark.parametrize("mode", ["eval", "train"])
def test_adapter_outputs_identical(cfg, mode):
    from yoloprune.core.adapters import SplitBlock, to_prunable, to_stock

    model = build(cfg).train(mode == "train")
    adapted = copy.deepcopy(model)
    n = to_prunable(adapted)
    assert n > 0 and any(isinstance(m, SplitBlock) for m in adapted.modules())
    assert all(m.training == (mode == "train") for m in adapted.modules())  # adapters copy the mode
    torch.manual_seed(0)
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        ref, out = model(x), adapted(x)
    flat = lambda o: [t for t in (o.values() if isinstance(o, dict) else o) if isinstance(t, torch.Tensor)] if not isinstance(o, torch.Tensor) else [o]  # noqa: E731
    if mode == "eval":
        assert torch.equal(ref[0], out[0])
    else:
        for a, b in zip(*(flat(o["one2many"] if isinstance(o, dict) and "one2many" in o else o) for o in (ref, out))):
            assert torch.equal(a, b)
    assert to_stock(adapted) == n
    assert not any(isinstance(m, SplitBlock) for m in adapted.modules())
    assert [type(m) for m in adapted.modules()] == [type(m) for m in model.modules()]
    with torch.no_grad():
        back = adapted.eval()(x)
    assert torch.equal(model.eval()(x)[0], back[0])


def test_restore_refuses_unequal_halves():
    from yoloprune.core.adapters import SplitBlock, _slice_conv

    block = next(m for m in build("yolov8n.yaml").modules() if type(m).__name__ == "C2f")
    adapter = SplitBlock(block)
    adapter.cv1a = _slice_conv(adapter.cv1a, 0, adapter.cv1a.conv.out_channels - 1)
    with pytest.raises(RuntimeError, match="equal halves"):
        adapter.restore()
