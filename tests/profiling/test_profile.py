"""Latency tables measured for real (OpenVINO at a tiny size), the cache, and target=latency's closed loop."""

import json
import math
import subprocess
import sys

import pytest

from yoloprune.core.latency import GroupTiming, LatencyTable, TableKey, fingerprint
from yoloprune.io import write_json_atomic

IMGSZ = 64


def _dense_groups(ckpt):
    from yoloprune.core.prune import group_widths
    from yoloprune.integrations.ultralytics.model_io import load_model

    return group_widths(load_model(ckpt)[0])


def test_profile_measures_groups_staircase_and_validation(dense_ckpt, tmp_path):
    from yoloprune.profiling.profile import profile

    result = profile(dense_ckpt, format="openvino:fp32", imgsz=IMGSZ, groups=2, validate=2, runs=3, warmup=1,
                     project=tmp_path, name="out", cache_dir=tmp_path / "cache")
    table = result.report
    assert result.table is table and result.run_dir == (tmp_path / "out").resolve()
    assert len(table.groups) == 2 and table.dense_ms > 0
    for g in table.groups.values():
        assert g.widths == sorted(g.widths) and g.widths[-1] == g.dense and all(ms > 0 for ms in g.ms)
    assert table.staircase.widths and table.round_to() in (8, 16, 32, 64)
    assert len(table.validation.variants) == 2 and math.isfinite(table.validation.mape)
    assert table.key.runtime == "openvino" and table.key.precision == "fp32" and table.measured_on["cpu"]
    assert (result.run_dir / "latency_groups.png").stat().st_size > 0 and (result.run_dir / "profile.log").exists()
    assert LatencyTable.load(result.run_dir / "latency_table.json") == table
    assert result.cached is None and not list((tmp_path / "cache").glob("*.json"))  # a partial table: never cached


def test_a_cached_table_is_returned_without_measuring(dense_ckpt, tmp_path):
    from yoloprune.profiling.profile import cached_path, grid_widths, profile

    dense = _dense_groups(dense_ckpt)
    key = TableKey("intel-cpu", "openvino", "fp32", IMGSZ, 1, 2, fingerprint(dense))
    widths = {n: [*grid_widths(w, (0.5,)), w] for n, w in dense.items()}
    table = LatencyTable(key=key, dense_ms=12.345, groups={n: GroupTiming(dense=w, widths=widths[n],
                                                                          ms=[12.345] * len(widths[n]))
                                                          for n, w in dense.items()})
    write_json_atomic(table.to_dict(), cached_path(key, tmp_path))
    result = profile(dense_ckpt, imgsz=IMGSZ, cache_dir=tmp_path, validate=0, fractions=(0.5,))
    assert result.report == table and result.cached == cached_path(key, tmp_path) and result.run_dir is None
    assert profile(dense_ckpt, imgsz=IMGSZ, cache_dir=tmp_path, validate=0, fractions=(0.75, 0.5)).report.dense_ms == 12.345


def test_cli_profile_says_how_far_pruning_can_go(dense_ckpt, tmp_path):
    """A cached table whose groups save 0.25 ms each at their narrowest: the profile's summary states the
    ceiling (dense / floor) before anyone asks target=latency for more than it can give."""
    import os

    from yoloprune.profiling.profile import cached_path, grid_widths

    dense = _dense_groups(dense_ckpt)
    key = TableKey("intel-cpu", "openvino", "fp32", IMGSZ, 1, 2, fingerprint(dense))
    groups = {n: [*grid_widths(w, (0.5,)), w] for n, w in dense.items()}
    table = LatencyTable(key=key, dense_ms=40.0, model="joint",
                         groups={n: GroupTiming(dense=w, widths=groups[n], ms=[39.75] + [40.0] * (len(groups[n]) - 1))
                                 for n, w in dense.items()})
    write_json_atomic(table.to_dict(), cached_path(key, tmp_path / "home" / "latency"))  # this test's cache only
    proc = subprocess.run([sys.executable, "-m", "yoloprune", "profile", f"model={dense_ckpt}", f"imgsz={IMGSZ}",
                           "validate=0", f"project={tmp_path}", "name=p"], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "YOLOPRUNE_HOME": str(tmp_path / "home")})
    assert proc.returncode == 0, proc.stderr[-2000:]
    floor = 40.0 - 0.25 * sum(len(g) > 1 for g in groups.values())  # a group of 8 channels has no half to measure
    assert floor > 0
    assert f"pruning reaches at most {40.0 / floor:.2f}x by this table ({floor:.2f} ms" in proc.stdout


def test_a_cached_table_too_shallow_for_the_fractions_asked_is_measured_again(dense_ckpt, tmp_path, monkeypatch):
    """A table profiled down to half of each width cannot let target=latency prune deeper: asking for
    fractions=0.25 measures again (and caches the deeper table) instead of returning it; asking for no grid
    (prune target=latency profiling on its own) takes the cached table as it is."""
    from yoloprune.profiling import profile as profile_module
    from yoloprune.profiling.profile import cached_path, grid_widths, profile

    dense = _dense_groups(dense_ckpt)
    key = TableKey("intel-cpu", "openvino", "fp32", IMGSZ, 1, 2, fingerprint(dense))

    def table_at(fractions, dense_ms):
        return LatencyTable(key=key, dense_ms=dense_ms, groups={
            n: GroupTiming(dense=w, widths=(ws := [*grid_widths(w, fractions), w]), ms=[dense_ms] * len(ws))
            for n, w in dense.items()})

    write_json_atomic(table_at((0.5,), 12.345).to_dict(), cached_path(key, tmp_path))
    measured = []
    for method in ("_measure", "_measure_layers"):  # whichever method measures: the cache rules are the same
        monkeypatch.setattr(profile_module, method, lambda timer, key, config, **kw: measured.append(config.grid)
                            or table_at(config.grid, 6.789))
    assert profile(dense_ckpt, imgsz=IMGSZ, cache_dir=tmp_path, validate=0).report.dense_ms == 12.345  # no grid asked
    assert profile(dense_ckpt, imgsz=IMGSZ, cache_dir=tmp_path, validate=0,
                   fractions=(0.5, 0.25)).report.dense_ms == 6.789
    assert measured == [(0.5, 0.25)] and LatencyTable.load(cached_path(key, tmp_path)).dense_ms == 6.789
    assert profile(dense_ckpt, imgsz=IMGSZ, cache_dir=tmp_path, validate=0, fractions=(0.5,)).report.dense_ms == 6.789
    assert len(measured) == 1  # the deeper table serves shallower asks


def test_profile_refuses_what_it_cannot_measure(dense_ckpt):
    from yoloprune.errors import ConfigError
    from yoloprune.profiling.profile import profile

    with pytest.raises(ConfigError, match="not this machine"):
        profile(dense_ckpt, hardware="jetson")
    with pytest.raises(ConfigError, match="one format and precision"):
        profile(dense_ckpt, format="openvino")
    with pytest.raises(ConfigError, match="int8 quantises every variant.*add data="):
        profile(dense_ckpt, format="openvino:int8")


def test_a_profile_config_checks_every_field_when_it_is_made(dense_ckpt, tmp_path):
    """The checks the command line made are the config's: a Python caller gets the same errors, before anything
    is loaded, exported or written."""
    from yoloprune.cli import parse_args, run
    from yoloprune.errors import ConfigError
    from yoloprune.profiling.config import GRID, ProfileConfig
    from yoloprune.profiling.profile import profile

    assert ProfileConfig(fractions=0.5).fractions == (0.5,) and ProfileConfig(fractions=[0.5, 0.25]).grid == (0.5, 0.25)
    assert ProfileConfig().grid == GRID and ProfileConfig(hardware="mac", format="coreml:fp16").units == "ALL"
    for options, match in (({"fractions": 1.5}, r"fractions=1.5: widths to measure as fractions in \(0, 1\)"),
                           ({"fractions": ()}, "fractions=\\(\\): widths to measure"),
                           ({"fractions": (0.5, True)}, "widths to measure as fractions"),
                           ({"imgsz": 100}, "imgsz=100 must be a multiple of 32"),
                           ({"imgsz": 640.0}, "imgsz=640.0 is invalid: a whole number >= 32"),
                           ({"runs": 0}, "runs=0 is invalid: a whole number >= 1, e.g. runs=15"),
                           ({"threads": True}, "threads=True is invalid"), ({"validate": -1}, "validate=-1 is invalid"),
                           ({"fit": -2}, "fit=-2 is invalid: a whole number >= 0 \\(or None\\)"),
                           ({"groups": 0}, "groups=0 is invalid"), ({"seed": "a"}, "seed='a' is invalid"),
                           ({"format": "openvino"}, "profile one format and precision"),
                           ({"hardware": "jetson", "format": "engine"}, "hardware=jetson runs engine: give one precision"),
                           ({"hardware": "tpu"}, "unknown hardware 'tpu'"),
                           ({"compute_units": "ALL"}, "openvino has no compute units")):
        with pytest.raises(ConfigError, match=match):
            ProfileConfig(**options)
    with pytest.raises(ConfigError, match="unknown ProfileConfig option 'out_dir'"):
        profile(dense_ckpt, out_dir=tmp_path)
    with pytest.raises(ConfigError, match="give either a ProfileConfig or its options"):
        profile(dense_ckpt, ProfileConfig(), imgsz=320)
    with pytest.raises(ConfigError, match="fractions=2: widths to measure"):
        run("profile", parse_args("profile", [f"model={dense_ckpt}", "fractions=2", f"project={tmp_path / 'p'}"]))
    assert not (tmp_path / "p").exists()


def test_int8_tables_time_the_quantised_export_calibrated_on_a_few_images(dense_ckpt, mini_data, tmp_path):
    from yoloprune.export.formats import FORMATS
    from yoloprune.profiling.profile import VariantTimer, calibration_args, profile
    from yoloprune.integrations.ultralytics.model_io import load_model

    ov = FORMATS["openvino"]
    args = calibration_args(ov, "int8", mini_data, images=4)
    assert args == {"data": str(mini_data), "fraction": 4}  # an image count, which Ultralytics reads as such
    assert calibration_args(ov, "fp32", mini_data) == {} and calibration_args(FORMATS["coreml"], "int8", None) == {}
    timer = VariantTimer(load_model(dense_ckpt)[0], ov, "int8", IMGSZ, 2, tmp_path / "v", calibration=args)
    timer.runner(timer.with_group(next(iter(timer.dense)), 8))()
    (xml,) = (tmp_path / "v").rglob("*.xml")
    assert "FakeQuantize" in xml.read_text()  # the variant timed is NNCF's quantised IR, as deployed

    table = profile(dense_ckpt, format="openvino:int8", data=mini_data, imgsz=IMGSZ, groups=1, validate=0, runs=3,
                    warmup=1, cache_dir=tmp_path / "cache").report
    (group,) = table.groups.values()
    assert table.key.precision == "int8" and table.dense_ms > 0 and all(ms > 0 for ms in group.ms)


def test_cli_prune_to_latency_measures_and_records_asked_predicted_measured(dense_ckpt, tmp_path):
    """A table that overstates the savings: the closed loop measures the miss and corrects the budget."""
    dense = _dense_groups(dense_ckpt)
    key = TableKey("intel-cpu", "onnx", "fp32", IMGSZ, 1, 2, fingerprint(dense))
    table = LatencyTable(key=key, dense_ms=10.0)
    for name, w in dense.items():  # every channel removed "saves" 0.005 ms
        widths = sorted({8, w // 2, w} - {0})
        table.groups[name] = GroupTiming(dense=w, widths=widths, ms=[10.0 - 0.005 * (w - x) for x in widths])
    path = write_json_atomic(table.to_dict(), tmp_path / "table.json")
    proc = subprocess.run([sys.executable, "-m", "yoloprune", "prune", f"model={dense_ckpt}", "target=latency",
                           "amount=0.8", f"latency_table={path}", "format=onnx", f"imgsz={IMGSZ}", "criterion=l2",
                           f"project={tmp_path}", "name=lat"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "latency (fraction of dense): asked 0.800" in proc.stdout
    lat = json.loads((tmp_path / "lat" / "prune.json").read_text())["latency"]
    assert lat["asked"] == 0.8 and lat["predicted"] is not None and 0 < lat["measured"] < 1.5
    from yoloprune.workflows.oneshot import LatencyCheck

    assert 1 <= len(lat["iterations"]) <= LatencyCheck().iterations and lat["iterations"][0]["budget"] == 0.8
    if len(lat["iterations"]) > 1:  # a miss larger than the tolerance: the budget moved towards the measurement
        first = lat["iterations"][0]
        assert (lat["iterations"][1]["budget"] < 0.8) == (first["measured"] > 0.8)


def test_split_block_halves_are_profiled_and_varied_together(dense_ckpt, tmp_path):
    """The two halves of a C2f must keep equal widths: a group and its twin move as one everywhere."""
    from yoloprune.export.formats import FORMATS
    from yoloprune.profiling.profile import VariantTimer
    from yoloprune.integrations.ultralytics.model_io import load_model

    timer = VariantTimer(load_model(dense_ckpt)[0], FORMATS["onnx"], "fp32", IMGSZ, 1, tmp_path)
    assert timer.partner, "yolov8n has split blocks"
    name, twin = next(iter(timer.partner.items()))
    widths = timer.with_group(name, 8)
    assert widths[name] == widths[twin] == 8
    assert sum(widths[g] != timer.dense[g] for g in widths) == 2
