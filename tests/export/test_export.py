"""Exporters: the format table, real exports with parity, metadata, clear backend errors."""

import json

import pytest

from yoloprune.export.formats import FORMATS, HARDWARE, QUANTIZE, parse_formats

IMGSZ = 64


def test_format_table_consistency():
    for name, fmt in FORMATS.items():
        assert fmt.name == name and fmt.suffix and fmt.precisions
        assert set(fmt.precisions) <= set(QUANTIZE)
        assert fmt.extra in {"export", "tensorrt"}
    assert all(h.format in FORMATS and set(h.bundle_formats) <= set(FORMATS) for h in HARDWARE.values())
    assert HARDWARE["jetson"].precisions == FORMATS["engine"].precisions  # the bundle's precisions: the table's
    assert parse_formats("onnx,openvino:int8") == [(FORMATS["onnx"], "fp32"), (FORMATS["openvino"], "int8")]
    assert len(parse_formats("coreml")) == 2
    from yoloprune.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown format 'tflite'"):
        parse_formats("tflite")
    with pytest.raises(ConfigError, match="supports precisions fp32"):
        parse_formats("onnx:int8")
    # latency tables of CoreML are keyed by compute units (default: the runtime's own, ALL); no other runtime has them
    coreml = FORMATS["coreml"]
    assert coreml.units() == "ALL" and coreml.units("cpu_and_ne") == "CPU_AND_NE"
    assert FORMATS["openvino"].units() == "" and FORMATS["engine"].units() == ""
    with pytest.raises(ConfigError, match="use one of ALL, CPU_AND_NE"):
        coreml.units("GPU")
    with pytest.raises(ConfigError, match="openvino has no compute units"):
        FORMATS["openvino"].units("ALL")


@pytest.fixture(scope="module")
def exports(pruned_run, mini_data):
    from yoloprune.export.exporter import export_all

    return {(r.format, r.precision): r for r in
            export_all(pruned_run.checkpoint, "onnx,openvino,coreml,engine", data="shapes-mini", imgsz=IMGSZ)}


def _bf16_cpu() -> bool:
    from yoloprune.export.openvino_precision import cpu_capabilities

    return "BF16" in cpu_capabilities()


@pytest.mark.parametrize("key", [("onnx", "fp32"), ("openvino", "fp32"), ("openvino", "bf16"), ("openvino", "fp16"),
                                 ("openvino", "int8")])
def test_runnable_exports_have_parity(exports, key):
    r = exports[key]
    if key == ("openvino", "bf16") and not _bf16_cpu():
        assert not r.ok and "no bf16 support" in r.skipped and r.file is None  # skipped, saying why
        pytest.skip(f"openvino:bf16 needs a CPU with bf16 support: {r.skipped}")
    assert r.ok, r.error
    if key[0] == "openvino":  # what OpenVINO reported it compiled, for parity and Ultralytics' validator alike
        assert r.runtime_precision == ("bf16" if key[1] == "bf16" else "f32")
    assert r.parity.measured and r.parity.passed and r.parity.max_abs_error <= r.parity.tolerance
    assert r.size_mb > 0 and r.seconds > 0
    assert r.map50_95 is not None and r.map50_95_pytorch - r.map50_95 <= 0.015  # Ultralytics' validator on shapes-mini


def test_quantised_exports_are_smaller(exports):
    assert exports[("openvino", "int8")].size_mb < exports[("openvino", "fp16")].size_mb < exports[("openvino", "fp32")].size_mb
    assert exports[("coreml", "int8")].size_mb < exports[("coreml", "fp16")].size_mb


def test_coreml_converts_and_spec_is_checked(exports):
    for precision in ("fp16", "int8"):
        r = exports[("coreml", precision)]
        assert r.ok and "macOS" in r.parity.skipped
        assert r.parity.offline.input_hw == [IMGSZ, IMGSZ] and "conv" in r.parity.offline.ops
        assert r.to_dict()["parity"] == {"skipped": r.parity.skipped, **r.parity.offline.to_dict()}  # the old layout
    assert "constexpr_lut_to_dense" in exports[("coreml", "int8")].parity.offline.ops  # 8-bit palettised weights
    assert "constexpr_lut_to_dense" not in exports[("coreml", "fp16")].parity.offline.ops


def test_unavailable_backend_fails_alone(exports):
    for precision in ("fp16", "int8"):
        r = exports[("engine", precision)]
        assert not r.ok and "tensorrt" in r.error and "yoloprune[tensorrt]" in r.error
    # every other format still exported (openvino:bf16 where the CPU has bf16)
    assert sum(r.ok for r in exports.values()) == 6 + _bf16_cpu()


def test_metadata_embedded(exports, pruned_run):
    import onnx

    onnx_meta = {p.key: p.value for p in onnx.load(exports[("onnx", "fp32")].file).metadata_props}
    record = json.loads(onnx_meta["yoloprune"])
    assert record["yoloprune"]["report"]["pruned"]["params"] == pruned_run.report.pruned.params
    assert record["precision"] == "fp32" and record["imgsz"] == IMGSZ and record["names"]
    from pathlib import Path

    ov = json.loads((Path(exports[("openvino", "int8")].file) / "yoloprune.json").read_text())
    assert ov["precision"] == "int8" and ov["yoloprune"]["config"]["target"] == "macs"
    import coremltools as ct

    ml = ct.models.MLModel(exports[("coreml", "fp16")].file, skip_model_load=True)
    assert json.loads(ml.user_defined_metadata["yoloprune"])["precision"] == "fp16"


def test_int8_calibration_uses_the_dataset(pruned_run, tmp_path):
    """Two calibration sets give two different INT8 models; the same set gives the same one."""
    import shutil
    from pathlib import Path

    from yoloprune.data import generate_shapes
    from yoloprune.export.exporter import export_all

    other = generate_shapes(tmp_path / "other", n_train=16, n_val=8, imgsz=128, seed=7)
    bins = {}
    for label, data in (("a", "shapes-mini"), ("b", str(other)), ("a2", "shapes-mini")):
        ckpt = tmp_path / label / "m.pt"
        ckpt.parent.mkdir()
        shutil.copy(pruned_run.checkpoint, ckpt)
        (r,) = export_all(ckpt, "openvino:int8", data=data, imgsz=IMGSZ, parity=False)
        bins[label] = next(Path(r.file).glob("*.bin")).read_bytes()
    assert bins["a"] == bins["a2"] and bins["a"] != bins["b"]


def test_int8_without_data_is_a_clear_error(pruned_run):
    from yoloprune.export.exporter import export_all

    (r,) = export_all(pruned_run.checkpoint, "openvino:int8", imgsz=IMGSZ)
    assert not r.ok and "calibrated on real images: add data=" in r.error


def test_ultralytics_export_arguments_go_to_the_formats_that_take_them():
    from yoloprune.errors import ConfigError
    from yoloprune.export.exporter import _export_args_per_format

    split = _export_args_per_format({"onnx", "openvino"}, {"opset": 12, "device": "cpu", "dynamic": True})
    assert split["onnx"] == {"opset": 12, "device": "cpu", "dynamic": True}
    assert split["openvino"] == {"device": "cpu", "dynamic": True}  # Ultralytics refuses opset for openvino
    with pytest.raises(ConfigError, match="opset= applies to format engine, onnx, not to openvino"):
        _export_args_per_format({"openvino"}, {"opset": 12})
