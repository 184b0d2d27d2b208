"""Exporters and benchmarks: the format table, real exports with parity, metadata, clear backend errors."""

import json
import subprocess
import sys

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
    assert r.parity["passed"] and r.parity["max_abs_error"] <= r.parity["tolerance"]
    assert r.size_mb > 0 and r.seconds > 0
    assert r.map50_95 is not None and r.map50_95_pytorch - r.map50_95 <= 0.015  # Ultralytics' validator on shapes-mini


def test_quantised_exports_are_smaller(exports):
    assert exports[("openvino", "int8")].size_mb < exports[("openvino", "fp16")].size_mb < exports[("openvino", "fp32")].size_mb
    assert exports[("coreml", "int8")].size_mb < exports[("coreml", "fp16")].size_mb


def test_coreml_converts_and_spec_is_checked(exports):
    for precision in ("fp16", "int8"):
        r = exports[("coreml", precision)]
        assert r.ok and "macOS" in r.parity["skipped"]
        assert r.parity["input_hw"] == [IMGSZ, IMGSZ] and "conv" in r.parity["ops"]
    assert "constexpr_lut_to_dense" in exports[("coreml", "int8")].parity["ops"]  # 8-bit palettised weights
    assert "constexpr_lut_to_dense" not in exports[("coreml", "fp16")].parity["ops"]


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


def test_benchmark_schema_and_device_bundle_dry_run(pruned_run, dense_ckpt, tmp_path):
    from yoloprune.benchmarking.benchmark import ROW_KEYS, benchmark, import_device_results

    report = benchmark(pruned_run.checkpoint, dense=dense_ckpt, formats="onnx,openvino:fp32", imgsz=IMGSZ,
                       data="shapes-mini", runs=3, warmup=1, out_dir=tmp_path / "b")
    saved = json.loads((tmp_path / "b" / "benchmark.json").read_text())
    assert saved["benchmarks"] == json.loads(json.dumps(report["benchmarks"]))
    rows = saved["benchmarks"]
    assert {(r["model"], r["format"]) for r in rows} == {(m, f) for m in ("dense", "pruned") for f in ("pytorch", "onnx", "openvino")}
    for r in rows:
        assert set(ROW_KEYS) <= set(r) and r["target"] == "intel-cpu" and r["error"] is None
        assert r["latency_ms_median"] > 0 and r["latency_ms_p90"] >= r["latency_ms_median"] and r["size_mb"] > 0
        assert 0.0 <= r["map50_95"] <= 1.0
    ov = [r for r in rows if r["format"] == "openvino"]
    assert all("f32" in r["runtime_precision"] for r in ov)  # the precision that ran is reported
    assert "onnx:fp32 speedup" in saved["summary"]
    assert (tmp_path / "b" / "pareto.png").stat().st_size > 0 and "| pruned | onnx |" in (tmp_path / "b" / "benchmark.md").read_text()

    assert (tmp_path / "b" / "benchmark.log").stat().st_size > 0  # exporters' and validators' output went there
    assert saved["hardware"] == "intel-cpu" and "cpu_flags" in saved["machine"]
    bundle_report = benchmark(pruned_run.checkpoint, dense=dense_ckpt, hardware="jetson", imgsz=IMGSZ, out_dir=tmp_path / "j")
    script = tmp_path / "j" / "jetson_bundle" / "run_benchmark.py"
    assert bundle_report["bundle"] and script.exists()
    p = subprocess.run([sys.executable, str(script), "--dry-run", "--runs", "3"], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    device = json.loads((script.parent / "results.json").read_text())
    assert {r["model"] for r in device["benchmarks"]} == {"dense", "pruned"}
    merged = import_device_results(tmp_path / "b" / "benchmark.json", script.parent / "results.json")
    assert len(merged["benchmarks"]) == len(rows) + 2


def test_ultralytics_export_arguments_go_to_the_formats_that_take_them():
    from yoloprune.errors import ConfigError
    from yoloprune.export.exporter import _export_args_per_format

    split = _export_args_per_format({"onnx", "openvino"}, {"opset": 12, "device": "cpu", "dynamic": True})
    assert split["onnx"] == {"opset": 12, "device": "cpu", "dynamic": True}
    assert split["openvino"] == {"device": "cpu", "dynamic": True}  # Ultralytics refuses opset for openvino
    with pytest.raises(ConfigError, match="opset= applies to format engine, onnx, not to openvino"):
        _export_args_per_format({"openvino"}, {"opset": 12})
