"""Pruned checkpoints: stock-loadable, identical after reload, and they keep their architecture in training."""

import json
import subprocess
import sys

import pytest
import torch

from yoloprune.core.stats import conv_widths

from conftest import sha256
from models import IMGSZ, SUPPORTED


@pytest.mark.parametrize("cfg", SUPPORTED)
def test_fresh_process_stock_load_identical(cfg, tmp_path):
    from ultralytics import YOLO

    from yoloprune import prune

    result = prune(cfg, project=tmp_path, name="p", target="macs", amount=0.5, imgsz=IMGSZ)
    torch.manual_seed(0)
    x = torch.rand(1, 3, IMGSZ, IMGSZ)
    torch.save(x, tmp_path / "x.pt")
    here = YOLO(str(result.checkpoint)).model.eval()
    with torch.no_grad():
        expected = here(x)[0]
    code = (
        "import sys, torch\n"
        "from ultralytics import YOLO\n"
        f"m = YOLO({str(result.checkpoint)!r}).model.eval()\n"
        "assert not any(k.startswith('yoloprune') for k in sys.modules), 'checkpoint needs yoloprune'\n"
        f"x = torch.load({str(tmp_path / 'x.pt')!r})\n"
        f"torch.save(m(x)[0], {str(tmp_path / 'y.pt')!r})\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert torch.equal(torch.load(tmp_path / "y.pt"), expected)
    assert conv_widths(here) != conv_widths(YOLO(cfg).model)  # really the pruned architecture


def test_prune_json_schema(pruned_run):
    d = json.loads(pruned_run.report_json.read_text())
    for side in ("dense", "pruned"):
        assert isinstance(d[side]["params"], int) and isinstance(d[side]["macs"], float)
    assert d["pruned"]["params"] < d["dense"]["params"] and d["pruned"]["macs"] < d["dense"]["macs"]
    assert d["criterion"] == "l2" and d["imgsz"] == 64 and d["seconds"] > 0
    assert abs(d["pruned"]["macs"] / d["dense"]["macs"] - 0.5) <= 0.015
    assert any(layer["after"] < layer["before"] for layer in d["layers"])


def test_input_checkpoint_untouched_and_not_overwritten(dense_ckpt, tmp_path):
    from yoloprune.integrations.ultralytics.model_io import load_model, save_pruned
    from yoloprune.errors import CheckpointError

    before = sha256(dense_ckpt)
    model, _ = load_model(dense_ckpt)
    with pytest.raises(CheckpointError, match="refusing to overwrite"):
        save_pruned(model, dense_ckpt, source=dense_ckpt, meta={})
    assert sha256(dense_ckpt) == before


def _train_one_epoch(yolo, data, project, name, **kw):
    yolo.train(data=str(data), epochs=1, imgsz=IMGSZ, batch=8, workers=0, plots=False, project=str(project),
               name=name, exist_ok=True, val=True, amp=False, **kw)
    return yolo.trainer


def test_pruned_model_trains_and_stays_pruned(pruned_run, mini_data, dense_ckpt, tmp_path):
    from ultralytics import YOLO as StockYOLO

    import yoloprune

    dense_hash = sha256(dense_ckpt)
    pruned_widths = conv_widths(StockYOLO(str(pruned_run.checkpoint)).model)
    dense_widths = conv_widths(StockYOLO(str(dense_ckpt)).model)
    assert pruned_widths != dense_widths

    trainer = _train_one_epoch(yoloprune.YOLO(str(pruned_run.checkpoint)), mini_data, tmp_path, "ours")
    assert conv_widths(trainer.model) == pruned_widths
    for ckpt in (trainer.best, trainer.last):
        reloaded = StockYOLO(str(ckpt))
        assert conv_widths(reloaded.model) == pruned_widths
        assert reloaded.model.yoloprune["report"]["pruned"]["params"] == pruned_run.report.pruned.params
    metrics = StockYOLO(str(trainer.best)).val(data=str(mini_data), imgsz=IMGSZ, batch=8, workers=0, plots=False)
    assert 0.0 <= metrics.box.map <= 1.0

    # stock Ultralytics with our trainer keeps it too
    stock = _train_one_epoch(StockYOLO(str(pruned_run.checkpoint)), mini_data, tmp_path, "stock",
                             trainer=yoloprune.PrunedDetectionTrainer)
    assert conv_widths(stock.model) == pruned_widths
    # ...and without it Ultralytics silently rebuilds the dense YAML: the trap this trainer exists for
    trap = _train_one_epoch(StockYOLO(str(pruned_run.checkpoint)), mini_data, tmp_path, "trap")
    assert conv_widths(trap.model) == dense_widths
    assert sha256(dense_ckpt) == dense_hash


def test_predict_and_onnx_export_keep_pruned_architecture(pruned_run, mini_data, tmp_path):
    import shutil

    import onnx
    from ultralytics import YOLO

    ckpt = tmp_path / "pruned.pt"
    shutil.copy(pruned_run.checkpoint, ckpt)
    yolo = YOLO(str(ckpt))
    image = next((mini_data.parent / "images" / "val").glob("*.*"))
    results = yolo.predict(str(image), imgsz=IMGSZ, verbose=False)
    assert results[0].boxes is not None and results[0].orig_shape
    onnx_path = YOLO(str(ckpt)).export(format="onnx", imgsz=IMGSZ, simplify=False)
    graph = onnx.load(onnx_path).graph
    n_params = sum(int(torch.tensor(list(t.dims)).prod()) for t in graph.initializer)
    # the exported graph is the pruned one (BN folded into convs: a few params fewer, never dense-sized)
    assert n_params <= pruned_run.report.pruned.params < pruned_run.report.dense.params
    assert n_params > 0.9 * pruned_run.report.pruned.params


def test_pruned_checkpoint_size_scales_with_kept_parameters(tmp_path):
    """Like Ultralytics' strip_optimizer(): FP16 weights, no optimizer; a pruned file is smaller than its dense one."""
    from ultralytics.utils.torch_utils import strip_optimizer

    from models import build
    from yoloprune import prune
    from yoloprune.integrations.ultralytics.model_io import load_model

    dense = tmp_path / "best.pt"  # a dense best.pt as Ultralytics leaves it after training
    torch.save({"model": build("yolov8s.yaml", nc=6), "ema": None, "optimizer": {"state": {}}, "epoch": 9,
                "train_args": {"model": "yolov8s.yaml", "task": "detect"}}, dense)
    strip_optimizer(dense)
    sizes = {}
    for amount in (0.6, 0.3):
        result = prune(dense, project=tmp_path, name=f"p{amount}", target="params", amount=amount, imgsz=IMGSZ)
        kept = result.report.pruned.params / result.report.dense.params
        sizes[amount] = result.checkpoint.stat().st_size / dense.stat().st_size
        assert sizes[amount] < 1.0 and abs(sizes[amount] - kept) < 0.06, (amount, sizes[amount], kept)
        ckpt = torch.load(result.checkpoint, weights_only=False)
        assert ckpt["optimizer"] is None and ckpt["ema"] is None
        assert next(ckpt["model"].parameters()).dtype == torch.float16  # as Ultralytics stores best.pt
        model, _ = load_model(result.checkpoint)
        assert next(model.parameters()).dtype == torch.float32  # and loads back in FP32
    assert sizes[0.3] < sizes[0.6]
