"""Unstructured sparsity: the asked level reached, surviving save / load / export; CoreML stores it sparse."""

import pytest
import torch

from models import build
from yoloprune.core.graph import output_layers
from yoloprune.core.unstructured import sparsify_
from yoloprune.errors import ConfigError


def test_sparsify_reaches_the_asked_level_and_leaves_the_outputs_dense():
    torch.manual_seed(0)
    model = build("yolov8n.yaml")
    heads = [m.weight.clone() for h in output_layers(model) for m in h.modules() if isinstance(m, torch.nn.Conv2d)]
    report = sparsify_(model, 0.75)
    assert report.sparsity == pytest.approx(0.75, abs=0.005)
    assert report.nonzero < 0.35 * report.params
    assert {layer["sparsity"] for layer in report.layers} != {0.75}  # global: layers differ
    after = [m.weight for h in output_layers(model) for m in h.modules() if isinstance(m, torch.nn.Conv2d)]
    assert all(torch.equal(a, b) for a, b in zip(heads, after))
    with pytest.raises(ConfigError, match="strictly between 0 and 1"):
        sparsify_(model, 1.0)


def test_sparsity_survives_save_load_and_coreml_export(dense_ckpt, tmp_path):
    pytest.importorskip("coremltools")
    from yoloprune.export.exporter import export_all
    from yoloprune.integrations.ultralytics.model_io import load_model
    from yoloprune.workflows.sparsify import SparsifyResult, sparsify

    result = sparsify(dense_ckpt, project=tmp_path, name="sparse", amount=0.8)
    assert isinstance(result, SparsifyResult) and result.report.sparsity == pytest.approx(0.8, abs=0.005)
    net, _ = load_model(result.checkpoint)
    zeros = sum(int((m.weight == 0).sum()) for m in net.modules() if isinstance(m, torch.nn.Conv2d))
    assert zeros >= 0.8 * result.report.eligible - 1  # FP16 storage and reload keep every zero
    sparse, = export_all(result.checkpoint, "coreml:fp16", imgsz=64)
    dense, = export_all(dense_ckpt, "coreml:fp16", imgsz=64)
    assert sparse.ok and dense.ok, (sparse.error, dense.error)
    spec = [r.parity.offline for r in (sparse, dense)]  # the CoreML spec, checked here
    assert spec[0] is not None and spec[0].sparse_weights > 0 and (spec[1] is None or spec[1].sparse_weights == 0)
    assert sparse.size_mb < 0.6 * dense.size_mb  # stored sparse: smaller file
    if sparse.parity.skipped is not None:  # prediction needs macOS
        assert "macOS" in sparse.parity.skipped
