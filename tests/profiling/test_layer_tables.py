"""Per-layer latency tables: the layer sum, its calibration on whole variants, the layer cache, and a quiet
console on a real (tiny) target=latency prune."""

import random
import re
import subprocess
import sys

import pytest

from yoloprune.core.latency import LatencyTable, TableKey, ValidationRow
from yoloprune.profiling.config import GRID

IMGSZ = 64


def _timer_ms(shape) -> float:
    """A synthetic runtime: each convolution costs 1 ns per multiply-accumulate."""
    return shape.macs * 1e-6


@pytest.fixture(scope="module")
def layout(dense_ckpt):
    from yoloprune.core.layers import layer_map
    from yoloprune.core.prune import group_layout
    from yoloprune.integrations.ultralytics.model_io import load_model

    net = load_model(dense_ckpt)[0]
    return layer_map(net, IMGSZ), group_layout(net)


def _model(layout, ms_of=_timer_ms):
    from yoloprune.profiling.layers import LayerModel, site_grid

    lm, _ = layout
    return LayerModel(lm, [site_grid(lm, i, GRID) for i in range(len(lm.sites))], ms_of)


def _exact(layout, widths) -> float:
    return sum(_timer_ms(s) for s in layout[0].shapes(widths))


def _random_widths(layout, rng):
    lm, gl = layout
    widths = dict(lm.widths)
    for g, d in lm.widths.items():
        widths = gl.with_width(g, max(8, 8 * round(rng.uniform(0.25, 1) * d / 8)), widths)
    return widths


def test_a_per_layer_table_of_a_synthetic_timer_sums_to_the_whole_model(layout):
    """A runtime whose layers cost their MACs: the table's group entries and the layer model's whole-variant sums
    equal the exact sums of every convolution's cost (bilinear interpolation is exact for a cost bilinear in the
    channels, so any mapping or interpolation slip shows)."""
    from yoloprune.profiling.layers import group_entries

    lm, gl = layout
    model = _model(layout)
    dense = _exact(layout, {})
    assert model.total() == pytest.approx(dense)
    groups = group_entries(model, 10.0, GRID, gl.with_width, gl.partner)
    assert set(groups) == set(lm.widths)
    for name, g in groups.items():
        assert g.widths[-1] == g.dense and g.ms[-1] == 10.0
        if g.paired:  # a split block's second half saves within its twin
            assert groups[g.paired_with].paired_with is None and len(set(g.ms)) == 1
            continue
        for w, ms in zip(g.widths, g.ms):
            assert ms == pytest.approx(10.0 - (dense - _exact(layout, gl.with_width(name, w))), abs=1e-9)
    rng = random.Random(0)
    for _ in range(5):
        widths = _random_widths(layout, rng)
        assert model.total(widths) == pytest.approx(_exact(layout, widths)) and model.total(widths) < dense


def test_calibration_recovers_a_known_fixed_cost_and_scale(layout):
    """Whole variants that cost fixed + scale x (their layers' sum): the calibrated table recovers the scale, the
    fixed part follows, and its predictions of whole variants are exact."""
    from yoloprune.profiling.layers import group_entries
    from yoloprune.profiling.tables import validate_model

    lm, gl = layout
    fixed, scale = 3.0, 1.7
    model = _model(layout)
    dense_ms = fixed + scale * model.total()
    table = LatencyTable(key=TableKey("intel-cpu", "openvino", "fp32", IMGSZ, 1, 2, "x"), dense_ms=dense_ms,
                         groups=group_entries(model, dense_ms, GRID, gl.with_width, gl.partner))
    rng = random.Random(1)
    rows = []
    for name in rng.sample(sorted(table.free()), 8):  # one group at a time: the additive table is exact there
        widths = gl.with_width(name, table.groups[name].widths[0])
        rows.append(ValidationRow(predicted=table.predict(widths, calibrated=False),
                                  measured=fixed + scale * model.total(widths), widths=widths))
    validate_model(table, [], rows)
    assert table.calibration == pytest.approx(scale)
    assert dense_ms - table.calibration * model.total() == pytest.approx(fixed)
    assert table.validation.mape == pytest.approx(0.0, abs=1e-9) and table.validation.mape_additive > 0.01


class _CountingFormat:
    """A stand-in runtime for the cache test: counts the one-layer networks it is asked to run."""

    def __init__(self):
        self.compiled = 0

    def runner(self, path, precision, imgsz, threads, shape=None):
        self.compiled += 1
        return (lambda: None), precision


def test_the_layer_cache_times_each_shape_once_across_models_pruned_from_one_base(layout, dense_ckpt, tmp_path):
    """The base's grid is timed once; a second profile times nothing; a model pruned from the base times only the
    shapes the base's grid did not already hold (the cache is keyed by shape, not by model)."""
    from yoloprune.core.layers import layer_map
    from yoloprune.core.prune import pruned_to
    from yoloprune.profiling.layers import LayerCache, site_grid, time_layers
    from yoloprune.integrations.ultralytics.model_io import load_model

    lm, gl = layout

    def grid_shapes(m):
        return [s for i, site in enumerate(m.sites) for s in site_grid(m, i, GRID).shapes(site.dense)]

    base = grid_shapes(lm)
    fmt, path = _CountingFormat(), tmp_path / "layers.json"
    timed = time_layers(base, fmt, "fp32", 1, LayerCache(path), runs=1, warmup=0)
    assert timed == len({s.key() for s in base}) and fmt.compiled == 2 * timed  # one- and two-copy networks
    assert time_layers(base, fmt, "fp32", 1, LayerCache(path), runs=1, warmup=0) == 0  # read back from the file
    half = {g: w for g, w in gl.with_width(next(iter(lm.widths)), 8).items()}
    for g, d in lm.widths.items():
        half = gl.with_width(g, max(8, 8 * round(0.5 * d / 8)), half)
    pruned = layer_map(pruned_to(load_model(dense_ckpt)[0], half, IMGSZ), IMGSZ)
    need = {s.key() for s in grid_shapes(pruned)}
    new = need - {s.key() for s in base}
    assert 0 < len(new) < len(need)  # some shapes shared with the base's grid, some not
    assert time_layers(grid_shapes(pruned), fmt, "fp32", 1, LayerCache(path), runs=1, warmup=0) == len(new)


def test_profile_layers_and_variants_give_one_table_shape(dense_ckpt, tmp_path):
    """A real per-layer profile (OpenVINO, 64 px, two groups) and the whole-variant one: the same record, each
    saying how it was measured; the layer cache is written beside the tables."""
    from yoloprune.profiling.profile import profile

    tables = {}
    for method in ("layers", "variants"):
        tables[method] = profile(dense_ckpt, format="openvino:fp32", imgsz=IMGSZ, groups=2, validate=2, fit=2, runs=3,
                                 warmup=1, cache_dir=tmp_path / "cache", method=method).report
    for method, table in tables.items():
        assert table.measured_on["method"] == method and len(table.groups) == 2 and table.dense_ms > 0
        assert table.staircase.widths and len(table.validation.variants) == 2
    assert set(tables["layers"].groups) == set(tables["variants"].groups)
    assert tables["layers"].measured_on["layer_shapes_timed"] > 0
    assert list((tmp_path / "cache" / "layers").glob("intel-cpu-openvino-fp32-t2.json"))


def test_method_is_checked_when_the_config_is_made():
    from yoloprune.errors import ConfigError
    from yoloprune.profiling.config import ProfileConfig

    assert ProfileConfig().measured_by == "layers" and ProfileConfig(format="openvino:int8").measured_by == "variants"
    assert ProfileConfig(hardware="jetson", format="engine:fp16").measured_by == "variants"
    assert ProfileConfig(hardware="jetson", format="engine:fp16", method="layers").measured_by == "layers"
    for options, match in (({"method": "fast"}, "method='fast': use one of auto, layers, variants"),
                           ({"method": "layers", "hardware": "iphone", "format": "coreml:fp16"}, "typed in from Xcode")):
        with pytest.raises(ConfigError, match=match):
            ProfileConfig(**options)


def test_prune_to_latency_on_an_empty_cache_keeps_the_console_short(dense_ckpt, tmp_path):
    """The first target=latency prune profiles its table: one progress bar per step and a summary line, no
    exporter banners and no prune line for the table's internal variants; their output is in a log file."""
    import os

    env = {**os.environ, "YOLOPRUNE_HOME": str(tmp_path / "home")}
    cmd = [sys.executable, "-m", "yoloprune", "prune", f"model={dense_ckpt}", "target=latency", "amount=0.7",
           "format=onnx", f"imgsz={IMGSZ}", "criterion=l2", f"project={tmp_path}", "name=lat"]
    rc, out = _in_a_terminal(cmd, env)
    assert rc == 0, out[-3000:]
    shown = [re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", line).split("\r")[-1] for line in out.split("\n")]
    lines = [line for line in shown if line.strip()]  # a progress bar rewrites its line: what a terminal keeps
    for banner in ("export success", "netron.app", "Results saved to /tmp/tmp", "PyTorch: starting from"):
        assert banner not in out
    assert "latency table onnx:fp32 64 px (layers)" in out
    iterations = len(__import__("json").loads((tmp_path / "lat" / "prune.json").read_text())["latency"]["iterations"])
    assert sum("yoloprune: l2 " in line for line in lines) <= iterations  # the closed loop's own prunes only
    assert len(lines) <= 30, "\n".join(lines)
    logs = list((tmp_path / "home" / "latency").glob("*.log"))
    assert logs and "export success" in logs[0].read_text()


def _in_a_terminal(cmd, env) -> tuple[int, str]:
    """Run ``cmd`` with a pseudo-terminal as its stdout and stderr (as a person runs it: progress bars rewrite
    their line); its exit code and everything it wrote."""
    import os
    import pty

    master, slave = pty.openpty()
    proc = subprocess.Popen(cmd, stdout=slave, stderr=slave, stdin=subprocess.DEVNULL, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return proc.wait(timeout=900), b"".join(chunks).decode(errors="replace").replace("\r\n", "\n")


def test_an_int8_per_layer_table_times_quantised_layers(dense_ckpt, mini_data, tmp_path):
    """INT8: the one-layer networks are quantised as the export runs them, and cached apart from FP32's; the
    whole variants it is calibrated on are NNCF's own exports."""
    from yoloprune.profiling.profile import profile

    table = profile(dense_ckpt, format="openvino:int8", data=mini_data, imgsz=IMGSZ, groups=1, validate=2, fit=2,
                    runs=3, warmup=1, cache_dir=tmp_path / "cache", method="layers").report
    assert table.key.precision == "int8" and table.measured_on["method"] == "layers"
    assert table.measured_on["layer_shapes_timed"] > 0 and len(table.validation.variants) == 2
    assert list((tmp_path / "cache" / "layers").glob("intel-cpu-openvino-int8-t2.json"))


def test_an_unvalidated_per_layer_table_is_still_calibrated(dense_ckpt, tmp_path):
    """validate=0 judges nothing, but the layer sum (one-layer networks cost differently than in a model) is still
    scaled to whole variants: calibrated on the fit variants, not left at 1."""
    from yoloprune.profiling.profile import profile

    table = profile(dense_ckpt, format="openvino:fp32", imgsz=IMGSZ, groups=2, validate=0, fit=3, runs=3, warmup=1,
                    cache_dir=tmp_path / "cache", method="layers").report
    assert table.validation is None and table.model == "isolated"
    assert table.calibration != 1.0 and 0.25 <= table.calibration <= 4.0 and "fixed_ms" in table.measured_on
