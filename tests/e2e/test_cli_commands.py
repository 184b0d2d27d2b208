"""Every yolo-prune command end to end in subprocesses at tiny sizes, sharing one reduced demo run."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from conftest import sha256

IMGSZ = 64
PNG = b"\x89PNG\r\n\x1a\n"


def _cli(*args, cwd, timeout=900, **kwargs):
    return subprocess.run([sys.executable, "-m", "yoloprune", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, **kwargs)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """The README's demo at a reduced size: shapes-mini, 1 dense epoch, 3 prune/fine-tune epochs, 64 px."""
    cwd = tmp_path_factory.mktemp("demo")
    p = _cli("demo", "data=shapes-mini", "epochs=1", "prune_epochs=3", "steps=2", f"imgsz={IMGSZ}", "runs=3",
             "project=out", "name=demo", cwd=cwd)
    assert p.returncode == 0, (p.stdout[-3000:], p.stderr[-3000:])
    return cwd / "out" / "demo", p


def test_demo_ends_with_the_dense_vs_pruned_table(demo_run):
    run, p = demo_run
    tail = p.stdout.strip().splitlines()[-6:]
    assert tail[0].startswith("| model |") and tail[2].startswith("| dense |") and tail[4].startswith("| pruned |")
    assert tail[3].startswith("| dense, same epochs |")  # the honest comparison: as many epochs as the pruned model
    assert "| 1 + 3 |" in tail[3] and "| 1 + 3 |" in tail[4] and "| 1 |" in tail[2]
    assert "n/a" not in "\n".join(tail[:5])  # every OpenVINO latency measured, bf16 included where the CPU has it
    assert str(run) in tail[-1] or "out/demo" in tail[-1]  # where the outputs are


def test_demo_report_json_schema_and_values(demo_run):
    run, _ = demo_run
    rep = json.loads((run / "report.json").read_text())
    for model in ("dense", "pruned"):
        assert isinstance(rep[model]["params"], int) and rep[model]["params"] > 0
        assert rep[model]["macs"] > 0 and 0.0 <= rep[model]["map50_95"] <= 1.0
    assert abs(rep["pruned"]["macs"] / rep["dense"]["macs"] - 0.5) <= 0.03  # half the MACs, within tolerance
    assert rep["pruned"]["params"] < rep["dense"]["params"]
    assert rep["dense"]["epochs"] == rep["pruned"]["epochs"] == "1 + 3"  # compared at equal epochs
    assert [s["step"] for s in rep["schedule"]] == [1, 2] and rep["schedule"][-1]["epoch"] == 2
    assert [c["epoch"] for c in rep["curve"]] == [1, 2, 3]  # the pruning run's curve, not the dense one
    bench = json.loads((run / "benchmark" / "benchmark.json").read_text())  # its mAPs and pareto.png: equal epochs
    assert Path(bench["dense"]).resolve() == (run / "dense-same-epochs" / "weights" / "best.pt").resolve()
    rows = {(r["model"], r["format"], r["precision"]): r for r in rep["benchmarks"]}
    keys = {"format", "precision", "target", "model", "latency_ms_median", "latency_ms_p90", "size_mb", "map50_95"}
    for model in ("dense", "pruned"):
        from yoloprune.export.openvino_precision import cpu_capabilities

        bf16 = (("openvino", "bf16"),) if "BF16" in cpu_capabilities() else ()
        for fmt, precision in (("onnx", "fp32"), ("openvino", "fp32"), *bf16, ("openvino", "int8")):
            row = rows[(model, fmt, precision)]
            assert keys <= set(row) and row["target"] == "intel-cpu"
            assert 0 < row["latency_ms_median"] <= row["latency_ms_p90"] and row["size_mb"] > 0
            assert row["map50_95"] is not None
            if fmt == "openvino":  # the compute precision OpenVINO reported: f32 for fp32/int8 on every CPU
                assert f"{'bf16' if precision == 'bf16' else 'f32'} compute" in row["runtime_precision"]
        coreml = rows[(model, "coreml", "fp16")]
        assert coreml["size_mb"] > 0 and "macOS" in coreml["error"]  # converted here, runs on Apple devices
    assert rows[("pruned", "openvino", "fp32")]["size_mb"] < rows[("dense", "openvino", "fp32")]["size_mb"]


def test_demo_writes_report_plots_and_exports(demo_run):
    run, _ = demo_run
    md = (run / "report.md").read_text()
    assert "| dense |" in md and "| pruned |" in md and "## Prune steps" in md and "## Benchmarks" in md
    for png in ("channels_per_layer.png", "map_over_epochs.png", "pareto.png"):
        assert (run / png).read_bytes()[:8] == PNG and f"]({png})" in md
    assert (run / "dense" / "weights" / "best.pt").exists()  # the dense run lives inside the demo folder too
    weights = run / "pruned" / "weights"
    assert (weights / "best.pt").exists() and (weights / "best_fp32.onnx").exists()
    assert (weights / "best_int8_openvino_model").is_dir() and (weights / "best_fp16.mlpackage").exists()


def test_report_rebuilds_from_run_files(demo_run):
    run, _ = demo_run
    before = json.loads((run / "report.json").read_text())
    for name in ("report.json", "report.md", "map_over_epochs.png"):
        (run / name).unlink()
    p = _cli("report", f"run={run}", cwd=run.parent)
    assert p.returncode == 0, p.stderr[-2000:]
    assert f"Report written to {run / 'report.md'}" in p.stdout
    assert json.loads((run / "report.json").read_text()) == before
    assert (run / "map_over_epochs.png").read_bytes()[:8] == PNG


def test_finetune_with_distillation_keeps_architecture(demo_run):
    run, _ = demo_run
    pruned, dense = run / "pruned" / "weights" / "best.pt", run / "dense" / "weights" / "best.pt"
    before = sha256(pruned)
    p = _cli("finetune", f"model={pruned}", f"teacher={dense}", "distill=both", "data=shapes-mini", "epochs=1",
             f"imgsz={IMGSZ}", "project=ft", "name=run", cwd=run.parent)
    assert p.returncode == 0, p.stderr[-3000:]
    best = run.parent / "ft" / "run" / "weights" / "best.pt"
    assert f"Fine-tuned weights saved to {best}" in p.stdout
    assert "distillation loss" in p.stdout + p.stderr
    size = lambda f: sum(t.numel() for t in torch.load(f, weights_only=False)["model"].parameters())  # noqa: E731
    assert size(best) == size(pruned) and sha256(pruned) == before  # still pruned; the input is untouched


def test_finetune_distill_needs_a_teacher(demo_run):
    run, _ = demo_run
    p = _cli("finetune", f"model={run / 'pruned' / 'weights' / 'best.pt'}", "distill=logit", "data=shapes-mini",
             cwd=run.parent)
    assert p.returncode == 2 and "needs teacher=" in p.stderr and "Traceback" not in p.stderr


def test_export_and_benchmark_commands(demo_run):
    run, _ = demo_run
    pruned, dense = run / "pruned" / "weights" / "best.pt", run / "dense" / "weights" / "best.pt"
    before = sha256(pruned)
    p = _cli("export", f"model={pruned}", "format=onnx,openvino:fp32", f"imgsz={IMGSZ}", "opset=12", cwd=run.parent)
    assert p.returncode == 0, p.stderr[-2000:]
    assert "| onnx:fp32 | ok |" in p.stdout and "Exports saved beside" in p.stdout and sha256(pruned) == before
    import onnx

    assert onnx.load(str(pruned.with_name("best_fp32.onnx"))).opset_import[0].version == 12  # Ultralytics' opset= got through
    # readable: one summary table and where the logs are; Ultralytics' banners and OpenVINO's output in the log
    log = pruned.parent / "export.log"
    assert len((p.stdout + p.stderr).splitlines()) <= 12, p.stdout + p.stderr
    assert f"Full export logs: {log}" in p.stdout and "ONNX:" in log.read_text() and "OpenVINO:" in log.read_text()
    loud = _cli("export", f"model={pruned}", "format=onnx", f"imgsz={IMGSZ}", "debug=true", cwd=run.parent)
    assert loud.returncode == 0 and "ONNX:" in loud.stdout + loud.stderr  # debug=True shows them
    p = _cli("benchmark", f"model={pruned}", f"dense={dense}", "format=onnx", f"imgsz={IMGSZ}", "runs=3", "warmup=1",
             "project=bench", "name=b", "target=intel-cpu", cwd=run.parent)
    assert p.returncode == 0, p.stderr[-2000:]
    assert "'target=' is deprecated, use 'hardware=intel-cpu'" in p.stdout + p.stderr
    out = run.parent / "bench" / "b"
    assert (out / "benchmark.log").stat().st_size > 0 and "benchmark.log" in p.stdout
    loud = _cli("benchmark", f"model={pruned}", f"dense={dense}", "format=onnx", f"imgsz={IMGSZ}", "runs=2", "warmup=1",
                "project=bench", "name=loud", "debug=true", cwd=run.parent)
    assert loud.returncode == 0 and not (run.parent / "bench" / "loud" / "benchmark.log").exists()
    assert "ONNX:" in loud.stdout + loud.stderr  # debug=true: the exporter's own output on the console
    rows = json.loads((out / "benchmark.json").read_text())["benchmarks"]
    assert {(r["model"], r["format"]) for r in rows} == {(m, f) for m in ("dense", "pruned") for f in ("pytorch", "onnx")}
    assert all(r["latency_ms_median"] > 0 for r in rows) and f"Results saved to {out}" in p.stdout


def test_ctrl_c_keeps_last_checkpoint_and_resume_finishes(mini_data, tmp_path):
    args = ["prune", "model=yolov8n.yaml", "data=shapes-mini", "target=macs", "amount=0.5", "epochs=4", "steps=2",
            "start_epoch=0", "end_epoch=2", f"imgsz={IMGSZ}", "batch=8", "project=out", "name=cut"]
    # a shell's background jobs (e.g. CI runners) inherit an ignored SIGINT: give the run a terminal's default
    restore = lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)  # noqa: E731
    proc = subprocess.Popen([sys.executable, "-m", "yoloprune", *args], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=restore)
    last = tmp_path / "out" / "cut" / "weights" / "last.pt"
    deadline = time.time() + 600
    while not last.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.2)
    assert proc.poll() is None, proc.communicate()[1][-3000:]
    proc.send_signal(signal.SIGINT)  # during epoch 2: after a prune step, before the schedule is complete
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err[-3000:]
    assert "interrupted" in err and f"resume={last}" in out + err and "Traceback" not in err
    ckpt = torch.load(last, weights_only=False)  # the last good checkpoint loads
    done = len(ckpt["ema"].yoloprune["history"])
    assert ckpt["epoch"] >= 0 and 1 <= done <= 2  # an unfinished run (a finished one has epoch -1)

    p = _cli("prune", f"resume={last}", cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-3000:]
    schedule = json.loads((tmp_path / "out" / "cut" / "prune_schedule.json").read_text())
    assert schedule["complete"] and [h["step"] for h in schedule["history"]] == [1, 2]
    assert abs(schedule["history"][-1]["macs_kept"] - 0.5) <= 0.015
    rows = (tmp_path / "out" / "cut" / "results.csv").read_text().strip().splitlines()
    assert len(rows) == 1 + 4  # every epoch once: those before the interrupt and the resumed ones

    again = _cli("prune", f"resume={last}", cwd=tmp_path)  # a finished run: nothing to resume, said clearly
    assert again.returncode == 2 and "already finished" in again.stderr


@pytest.mark.skipif(not hasattr(os, "fork"), reason="RLIMIT_FSIZE needs a POSIX system")
def test_disk_write_failure_keeps_previous_checkpoint(tmp_path):
    import resource

    ok = _cli("prune", "model=yolo11n.yaml", f"imgsz={IMGSZ}", "project=out", "name=run", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr[-2000:]
    run = tmp_path / "out" / "run"
    good = sha256(run / "pruned.pt")

    def small_files():  # the OS refuses writes past 256 KiB (EFBIG), like a disk filling up mid-save
        resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 1024, 256 * 1024))

    p = _cli("prune", "model=yolo11n.yaml", f"imgsz={IMGSZ}", "amount=0.3", "project=out", "name=run", "exist_ok=true",
             cwd=tmp_path, preexec_fn=small_files)
    assert p.returncode == 2 and "could not write" in p.stderr and "free disk space" in p.stderr
    assert "Traceback" not in p.stderr
    assert sha256(run / "pruned.pt") == good  # the good checkpoint is intact
    assert sorted(f.name for f in run.iterdir()) == ["prune.json", "pruned.pt"]  # no half-written temporary file


def test_dataset_yaml_with_missing_images(tmp_path, mini_data):
    import shutil

    root = tmp_path / "broken"
    shutil.copytree(Path(mini_data).parent, root)
    for img in (root / "images" / "val").iterdir():
        img.unlink()
    (root / "data.yaml").write_text(f"path: {root}\ntrain: images/train\nval: images/val\nnames: {{0: a, 1: b}}\n")
    p = _cli("prune", "model=yolov8n.yaml", f"data={root / 'data.yaml'}", "epochs=1", f"imgsz={IMGSZ}",
             "project=out", "name=x", cwd=tmp_path)
    assert p.returncode == 2 and "val images not found" in p.stderr and "Traceback" not in p.stderr
    assert not (tmp_path / "out").exists()  # nothing created
