"""The run report, rebuilt from a run folder's files: here a benchmark run's benchmark.json alone."""

import json

from yoloprune.benchmarking.config import BenchmarkConfig
from yoloprune.benchmarking.report import BenchmarkReport, BenchmarkRow, summarize
from yoloprune.reporting.report import build_report, collect


def test_report_of_a_benchmark_run(tmp_path):
    rows = [BenchmarkRow("openvino", "fp32", "intel-cpu", model, latency_ms_median=ms, latency_ms_p90=ms * 1.1,
                         size_mb=mb, map50_95=0.5, threads=2) for model, ms, mb in (("dense", 10.0, 12.0),
                                                                                     ("pruned", 5.0, 6.0))]
    report = BenchmarkReport(BenchmarkConfig(imgsz=320), dense="d.pt", pruned="p.pt", machine={"cpu": "test CPU"},
                             log=None, rows=tuple(rows), summary=summarize([r.to_dict() for r in rows]))
    assert report.summary["openvino:fp32 speedup"] == 2.0
    (tmp_path / "benchmark.json").write_text(json.dumps(report.to_dict()))
    info = collect(tmp_path)
    assert info.benchmark == json.loads(json.dumps(report.to_dict())) and info.prune is None and info.curve == []
    md = build_report(tmp_path).read_text()
    assert "## Benchmarks" in md and "| pruned | openvino | fp32 |" in md and "![pareto.png](pareto.png)" in md
    rep = json.loads((tmp_path / "report.json").read_text())
    assert rep["benchmark_settings"]["target"] == "intel-cpu" and rep["benchmark_summary"] == report.summary
