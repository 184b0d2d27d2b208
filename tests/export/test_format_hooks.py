"""The format table's hooks: one name each, always callable, the PyTorch baseline among the timed formats, and the
export config checked when it is made."""

import warnings
from pathlib import Path

import pytest

from yoloprune.errors import ConfigError
from yoloprune.export.exporter import ExportConfig, ExportResult, Parity, export_all
from yoloprune.export.formats import BENCHMARK_FORMATS, FORMATS, PYTORCH, CoreMLSpec, parse_formats

HOOKS = ("host_check", "precision_unavailable", "precision_scope", "write_metadata", "offline_check", "compress")


def test_every_hook_is_callable_on_every_format():
    """No caller asks whether a format has a hook: each has one (``runner`` None: not timed here)."""
    for fmt in BENCHMARK_FORMATS.values():
        assert all(callable(getattr(fmt, hook)) for hook in HOOKS), fmt.name
    for name in ("pytorch", "onnx", "coreml", "engine"):  # no compute precision to force (OpenVINO's: its own test)
        with BENCHMARK_FORMATS[name].precision_scope("fp32") as compiled:
            assert compiled == []
    assert FORMATS["onnx"].why_not_runnable() is None and "macOS" in FORMATS["coreml"].why_not_runnable()
    assert FORMATS["openvino"].precision_unavailable("fp32") is None
    assert FORMATS["onnx"].offline_check(Path("x.onnx")) is None and FORMATS["coreml"].runner is None


def test_pytorch_is_a_timed_format_but_no_export():
    assert BENCHMARK_FORMATS["pytorch"] is PYTORCH and PYTORCH.runner is not None and "pytorch" not in FORMATS
    assert set(BENCHMARK_FORMATS) == {"pytorch", *FORMATS}
    with pytest.raises(ConfigError, match="unknown format 'pytorch'"):
        parse_formats("pytorch")


def test_former_hook_names_still_read_with_a_warning():
    onnx, coreml = FORMATS["onnx"], FORMATS["coreml"]
    with pytest.warns(DeprecationWarning, match="ExportFormat.runnable is deprecated: use ExportFormat.why_not_runnable"):
        assert coreml.runnable(coreml) == coreml.why_not_runnable()
    with pytest.warns(DeprecationWarning, match="use ExportFormat.precision_scope"):
        assert onnx.scope is onnx.precision_scope
    with pytest.warns(DeprecationWarning, match="use ExportFormat.precision_unavailable"):
        assert onnx.unavailable is onnx.precision_unavailable
    with pytest.warns(DeprecationWarning, match="use ExportFormat.write_metadata"):
        assert coreml.embed is coreml.write_metadata
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        onnx.nonsense  # noqa: B018


def test_parity_keeps_the_old_layout_and_reads_as_the_old_dict_with_a_warning():
    spec = CoreMLSpec("image", [64, 64], ["conv"], 1, 9, [65568], 0)
    assert Parity().to_dict() == {} and Parity().passed  # not checked
    measured = Parity(max_abs_error=2e-4, tolerance=1e-3)
    assert measured.to_dict() == {"max_abs_error": 2e-4, "tolerance": 1e-3, "passed": True}
    assert not Parity(max_abs_error=0.5, tolerance=1e-3).passed
    skipped = Parity(skipped="needs macOS", offline=spec)
    assert skipped.to_dict() == {"skipped": "needs macOS", "input": "image", "input_hw": [64, 64], "ops": ["conv"],
                                 "n_ops": 1, "spec_version": 9, "const_dtypes": [65568], "sparse_weights": 0}
    with pytest.warns(DeprecationWarning, match="parity is a Parity record"):
        assert skipped.get("sparse_weights") == 0 and skipped["skipped"] == "needs macOS" and "ops" in skipped
    result = ExportResult("coreml", "fp16", parity=skipped)
    assert list(result.to_dict()) == ["format", "precision", "ok", "file", "size_mb", "seconds", "error", "skipped",
                                      "runtime_precision", "parity", "map50_95", "map50_95_pytorch"]


def test_export_config_names_the_fix():
    assert ExportConfig(formats=("onnx", "openvino:int8")).formats == "onnx,openvino:int8"
    assert [(f.name, p) for f, p in ExportConfig(formats="coreml").exports] == [("coreml", "fp16"), ("coreml", "int8")]
    with pytest.raises(ConfigError, match="imgsz=0 is invalid: a whole number of pixels >= 32"):
        ExportConfig(imgsz=0)
    with pytest.raises(ConfigError, match="parity='yes' is invalid: True"):
        ExportConfig(parity="yes")
    with pytest.raises(ConfigError, match="formats=None is invalid"):
        ExportConfig(formats=None)
    with pytest.raises(ConfigError, match="unknown format 'tflite'"):
        ExportConfig(formats="tflite")
    with pytest.raises(ConfigError, match="opset= applies to format engine, onnx, not to openvino"):
        ExportConfig(formats="openvino", export_args={"opset": 12})
    assert ExportConfig(export_args=None).export_args == {}


def test_export_all_checks_its_options_before_touching_the_checkpoint(tmp_path):
    missing = tmp_path / "missing.pt"
    with pytest.raises(ConfigError, match="formats given twice"):
        export_all(missing, "onnx", formats="openvino")
    with pytest.raises(ConfigError, match="unknown ExportConfig option 'imgz'"):
        export_all(missing, "onnx", imgz=64)
    with pytest.raises(ConfigError, match="give either a ExportConfig or its options"):
        export_all(missing, ExportConfig(), imgsz=64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the formats alone as the second argument: the documented short form
        with pytest.raises(ConfigError, match="unknown format"):
            export_all(missing, "tflite")
