"""Deployment benchmarks: the config checked before any work, benchmark.json's layout, a device bundle, and the
spellings benchmark() took before."""

import json
import subprocess
import sys

import pytest

from yoloprune.benchmarking.benchmark import BenchmarkResult, benchmark
from yoloprune.benchmarking.config import BenchmarkConfig
from yoloprune.errors import ConfigError

IMGSZ = 64


def test_config_names_the_fix():
    assert BenchmarkConfig(formats=("onnx", "openvino:int8")).formats == "onnx,openvino:int8"
    assert BenchmarkConfig(hardware="jetson").device.measured_here is False
    for kwargs, message in (({"hardware": "tpu"}, "unknown hardware 'tpu': use one of intel-cpu, jetson"),
                            ({"formats": "tflite"}, "unknown format 'tflite'"),
                            ({"formats": "onnx:int8"}, "supports precisions fp32, not 'int8'"),
                            ({"runs": 0}, "runs=0 is invalid: a whole number >= 1"),
                            ({"threads": True}, "threads=True is invalid"),
                            ({"warmup": -1}, "warmup=-1 is invalid"),
                            ({"imgsz": 8}, "imgsz=8 is invalid"),
                            ({"formats": "openvino", "export_args": {"opset": 12}}, "opset= applies to format")):
        with pytest.raises(ConfigError, match=message):
            BenchmarkConfig(**kwargs)


def test_bad_options_fail_before_a_run_folder_is_made(tmp_path):
    missing = tmp_path / "missing.pt"  # never read: the options are checked first
    where = {"project": tmp_path / "runs", "name": "x"}
    with pytest.raises(ConfigError, match="unknown hardware 'tpu'"):
        benchmark(missing, hardware="tpu", **where)
    with pytest.raises(ConfigError, match="unknown BenchmarkConfig option 'run'"):
        benchmark(missing, run=3, **where)
    with pytest.raises(ConfigError, match="give either a BenchmarkConfig or its options"):
        benchmark(missing, BenchmarkConfig(), runs=3, **where)
    with pytest.warns(DeprecationWarning, match=r"benchmark\(target=...\) is deprecated"):
        with pytest.raises(ConfigError, match="give hardware= only"):
            benchmark(missing, target="jetson", hardware="jetson", **where)
    assert not (tmp_path / "runs").exists()


def test_benchmark_schema_and_device_bundle_dry_run(pruned_run, dense_ckpt, tmp_path):
    from yoloprune.benchmarking.benchmark import ROW_KEYS, import_device_results

    result = benchmark(pruned_run.checkpoint, dense=dense_ckpt, formats="onnx,openvino:fp32", imgsz=IMGSZ,
                       data="shapes-mini", runs=3, warmup=1, project=tmp_path, name="b")
    out = tmp_path / "b"
    assert isinstance(result, BenchmarkResult) and result.run_dir == out.resolve()
    saved = json.loads((out / "benchmark.json").read_text())
    assert saved == json.loads(json.dumps(result.report.to_dict()))
    assert list(saved) == ["hardware", "target", "imgsz", "threads", "batch", "warmup", "runs", "machine", "dense",
                           "pruned", "log", "benchmarks", "summary"]  # the file's layout, as before
    rows = saved["benchmarks"]
    assert {(r["model"], r["format"]) for r in rows} == {(m, f) for m in ("dense", "pruned") for f in ("pytorch", "onnx", "openvino")}
    for r in rows:
        assert tuple(r) == ROW_KEYS and r["target"] == "intel-cpu" and r["error"] is None
        assert r["latency_ms_median"] > 0 and r["latency_ms_p90"] >= r["latency_ms_median"] and r["size_mb"] > 0
        assert 0.0 <= r["map50_95"] <= 1.0
    ov = [r for r in result.report.rows if r.format == "openvino"]
    assert all("f32" in r.runtime_precision for r in ov)  # the precision that ran is reported
    assert "onnx:fp32 speedup" in saved["summary"] and result.report.summary == saved["summary"]
    assert (out / "pareto.png").stat().st_size > 0 and "| pruned | onnx |" in (out / "benchmark.md").read_text()

    assert (out / "benchmark.log").stat().st_size > 0  # exporters' and validators' output went there
    assert saved["log"] == str(out.resolve() / "benchmark.log")
    assert saved["hardware"] == "intel-cpu" and "cpu_flags" in saved["machine"]
    # the spellings of before: target=, out_dir= and the returned dict, each with a DeprecationWarning
    with pytest.warns(DeprecationWarning) as seen:
        bundle_report = benchmark(pruned_run.checkpoint, dense=dense_ckpt, target="jetson", imgsz=IMGSZ,
                                  out_dir=tmp_path / "j")
        assert bundle_report["bundle"] == bundle_report.report.bundle
    assert {str(w.message).split(":")[0] for w in seen} >= {"benchmark(target=...) is deprecated",
                                                             "benchmark(out_dir=...) is deprecated",
                                                             "benchmark() returns a BenchmarkResult"}
    script = tmp_path / "j" / "jetson_bundle" / "run_benchmark.py"
    assert bundle_report.run_dir == tmp_path / "j" and script.exists()
    assert json.loads((tmp_path / "j" / "benchmark.json").read_text())["bundle"] == str(script.parent)
    p = subprocess.run([sys.executable, str(script), "--dry-run", "--runs", "3"], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    device = json.loads((script.parent / "results.json").read_text())
    assert {r["model"] for r in device["benchmarks"]} == {"dense", "pruned"}
    merged = import_device_results(out / "benchmark.json", script.parent / "results.json")
    assert len(merged["benchmarks"]) == len(rows) + 2
