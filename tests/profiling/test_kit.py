"""Profile kits for devices that are not this machine: written here, timed by the kit's own standalone
runner (ONNX Runtime dry run here; TensorRT on a Jetson, CoreML on a Mac), merged back into a latency table."""

import json
import subprocess
import sys
from dataclasses import replace

import pytest

from yoloprune.core.latency import GroupTiming, LatencyTable
from yoloprune.errors import ConfigError

IMGSZ = 64


@pytest.fixture(scope="module")
def jetson_kit(dense_ckpt, tmp_path_factory):
    from yoloprune.profiling.kit import write_kit

    result = write_kit(dense_ckpt, hardware="jetson", format="engine:fp16", imgsz=IMGSZ,
                       project=tmp_path_factory.mktemp("kit"), name="exp", groups=3, validate=2, fit=4, debug=True)
    assert result.kit == result.run_dir / "jetson_profile_kit"
    return result.kit


def test_a_kit_ships_every_variant_a_local_profile_would_time(jetson_kit):
    spec = json.loads((jetson_kit / "kit.json").read_text())
    assert spec["hardware"] == "jetson" and spec["runtime"] == "engine" and spec["ships"] == "onnx"
    roles = [s["role"] for s in spec["sets"]]
    assert roles.count("validate") == 2 and roles.count("fit") == 4 and roles.count("staircase") == 1
    assert roles.count("group") >= 2
    ids = [v for s in spec["sets"] for v in s["variants"]]
    assert len(ids) == len(set(ids)) and set(spec["variants"]) == {"dense", *ids}
    for v in spec["variants"].values():
        assert (jetson_kit / v["file"]).suffix == ".onnx" and (jetson_kit / v["file"]).stat().st_size > 0
    assert spec["variants"]["dense"]["changed"] == {}
    for s in (s for s in spec["sets"] if s["role"] == "group"):  # one group (and its twin) below its dense width
        for vid, w in zip(s["variants"], s["widths"]):
            assert spec["variants"][vid]["changed"][s["group"]] == w < spec["dense"][s["group"]]
    stair = next(s for s in spec["sets"] if s["role"] == "staircase")
    assert stair["widths"] == sorted(stair["widths"]) and stair["widths"][-1] == spec["dense"][stair["group"]]
    assert (jetson_kit / "run_benchmark.py").exists() and "trtexec" in (jetson_kit / "README.txt").read_text()
    csv_rows = (jetson_kit / "iphone_timings.csv").read_text().splitlines()
    assert csv_rows[2] == "variant,file,median_ms" and len(csv_rows) == 3 + len(spec["variants"])


def test_a_kit_json_keeps_its_layout_and_draws_the_variants_a_local_profile_times(jetson_kit, dense_ckpt):
    """kit.json reads back into its record unchanged (the kit's script reads that layout), and its random
    variants are the ones a local profile with the same seed draws."""
    from yoloprune.export.formats import FORMATS
    from yoloprune.integrations.ultralytics.model_io import load_model
    from yoloprune.profiling.config import ProfileConfig
    from yoloprune.profiling.kit import KitSpec
    from yoloprune.profiling.variants import VariantTimer, random_draws

    text = (jetson_kit / "kit.json").read_text()
    spec = KitSpec.from_dict(json.loads(text))
    assert json.dumps(spec.to_dict(), indent=2) == text and spec.partial == "first 3 groups only"
    assert [list(s.to_dict()) for s in spec.sets[:1]] == [["role", "group", "widths", "variants"]]
    timer = VariantTimer(load_model(dense_ckpt)[0], FORMATS["onnx"], "fp32", IMGSZ, 1, jetson_kit)
    names = list(timer.dense)[:3]
    config = ProfileConfig(hardware="jetson", format="engine:fp16", imgsz=IMGSZ, groups=3, validate=2, fit=4)
    for draw in random_draws(config, sum(s.role == "group" for s in spec.sets)):
        drawn = [spec.variants[s.variants[0]].changed for s in spec.sets if s.role == draw.role]
        assert drawn == [{g: w for g, w in widths.items() if w != timer.dense[g]} for widths in timer.drawn(draw, names)]
    with pytest.raises(ConfigError, match="is not a yoloprune profile kit"):
        KitSpec.from_dict({**json.loads(text), "kind": "other"})
    with pytest.raises(ConfigError, match="not a readable yoloprune profile kit"):
        KitSpec.from_dict({**json.loads(text), "sets": [{"role": "group"}]})


def test_the_kits_runner_times_it_and_merge_builds_the_table(jetson_kit, tmp_path):
    from yoloprune.profiling.kit import merge

    spec = json.loads((jetson_kit / "kit.json").read_text())
    # an interrupted run left the first set's medians: the rerun keeps them and times the rest
    partial = jetson_kit / f"timings.partial-{spec['fingerprint']}-dry-run.json"
    first = [9.0 + i for i in range(1 + len(spec["sets"][0]["variants"]))]
    partial.write_text(json.dumps([first]))
    done = subprocess.run([sys.executable, str(jetson_kit / "run_benchmark.py"), "--profile", "--dry-run",
                           "--runs", "3", "--warmup", "1"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    timings = json.loads((jetson_kit / "timings.json").read_text())
    assert timings["hardware"] == "dry-run"  # labelled by where it ran, never as the Jetson
    assert timings["sets"][0]["ms"] == first and "resuming after 1" in done.stdout and not partial.exists()
    assert len(timings["sets"]) == len(spec["sets"]) and timings["sets"][1]["ms"][0] != first[0]  # the rest timed
    cached = merge(jetson_kit / "timings.json", cache_dir=tmp_path)
    table = LatencyTable.load(cached)
    assert (table.key.hardware, table.key.runtime, table.key.precision) == ("dry-run", "onnx", "fp32")  # what ran
    assert table.key.fingerprint == spec["fingerprint"] and table.dense_ms > 0
    for name, g in table.groups.items():
        assert g.widths[-1] == g.dense == spec["dense"][name] and len(g.ms) == len(g.widths)
    assert table.staircase.ms and len(table.validation.variants) == 2
    assert cached.with_suffix(".png").stat().st_size > 0

    timings["fingerprint"] = "another-model"
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "timings.json").write_text(json.dumps(timings))
    with pytest.raises(ConfigError, match="not of this kit"):
        merge(tmp_path / "other" / "timings.json", cache_dir=tmp_path, kit=jetson_kit)


def test_iphone_rows_come_from_the_phone_through_the_csv(dense_ckpt, tmp_path):
    from yoloprune.profiling.kit import IPHONE_CSV, merge, write_kit

    kit = write_kit(dense_ckpt, hardware="iphone", format="coreml:fp16", imgsz=IMGSZ, project=tmp_path, groups=1,
                    validate=1, fit=2, debug=True).kit  # (few variants: each is a CoreML export)
    spec = json.loads((kit / "kit.json").read_text())
    assert spec["ships"] == "coreml" and all(v["file"].endswith(".mlpackage") for v in spec["variants"].values())
    lines = (kit / IPHONE_CSV).read_text().splitlines()
    assert lines[:3] == ["# device: ", "# compute units: ALL", "variant,file,median_ms"]  # the template to fill
    with pytest.raises(ConfigError, match="no median_ms"):
        merge(kit / IPHONE_CSV, cache_dir=tmp_path)
    rows = lines[2:]

    def filled(*notes, dense=2.0, other=1.5):
        timed = [f"{r.rstrip(',')},{dense if r.startswith('dense') else other}" for r in rows[1:]]
        (kit / IPHONE_CSV).write_text("\n".join([*notes, rows[0], *timed]) + "\n")
        return kit / IPHONE_CSV

    # a kit written before the units line (units in the device line): asked for a line of their own, not read as All
    with pytest.raises(ConfigError, match="device line names compute units .* '# compute units: <ALL|CPU_AND_NE"):
        merge(filled("# device: iPhone 15 Pro, iOS 18, compute units all"), cache_dir=tmp_path)
    with pytest.raises(ConfigError, match="line '# units: ALL': the CSV takes '# device: <phone, iOS>'"):
        merge(filled("# device: iPhone 15 Pro", "# units: ALL"), cache_dir=tmp_path)
    with pytest.raises(ConfigError, match="line '# compute units: GPU only': compute_units=GPU only: use one of"):
        merge(filled("# compute units: GPU only"), cache_dir=tmp_path)
    table = LatencyTable.load(merge(filled("# iPhone 15 Pro, iOS 18"), cache_dir=tmp_path))  # a keyless first line
    assert table.key.hardware == "iphone" and table.key.runtime == "coreml" and table.dense_ms == 2.0
    assert table.measured_on["device"] == "iPhone 15 Pro, iOS 18"
    assert all(ms == 1.5 for ms in next(iter(table.groups.values())).ms[:-1])
    assert table.key.units == "ALL" and "Xcode's default" in table.measured_on["compute_units"]  # not given: All

    # timed again on the Neural Engine alone (Xcode's label): a table of its own, found by compute_units=
    from yoloprune.profiling.profile import profile

    ne_csv = filled("# device: iPhone 15 Pro, iOS 18", "# compute units: CPU and Neural Engine", dense=1.0, other=0.5)
    on_ne = LatencyTable.load(merge(ne_csv, cache_dir=tmp_path / "both"))
    assert on_ne.key.units == "CPU_AND_NE" and on_ne.dense_ms == 1.0
    merge(ne_csv, cache_dir=tmp_path)
    for units, want in (("cpu_and_ne", on_ne), (None, table)):
        assert profile(dense_ckpt, hardware="iphone", format="coreml:fp16", imgsz=IMGSZ, cache_dir=tmp_path,
                       compute_units=units).report == want
    with pytest.raises(ConfigError, match="timed with compute units CPU_AND_NE, not ALL: give compute_units=CPU_AND_NE"):
        profile(dense_ckpt, hardware="iphone", format="coreml:fp16", imgsz=IMGSZ, cache_dir=tmp_path / "both")
    with pytest.raises(ConfigError, match="openvino has no compute units"):
        profile(dense_ckpt, format="openvino:fp32", imgsz=IMGSZ, cache_dir=tmp_path, compute_units="ALL")


def test_a_merged_device_table_is_found_for_the_model_and_prunes_without_the_loop(dense_ckpt, tmp_path):
    from yoloprune import prune
    from yoloprune.core.latency import TableKey, fingerprint
    from yoloprune.core.prune import group_widths
    from yoloprune.profiling.profile import cached_path, profile
    from yoloprune.integrations.ultralytics.model_io import load_model
    from yoloprune.io import write_json_atomic
    from yoloprune.workflows.oneshot import LatencyCheck

    with pytest.raises(ConfigError, match="no table of it is merged"):
        profile(dense_ckpt, hardware="iphone", format="coreml:fp16", imgsz=IMGSZ, cache_dir=tmp_path)
    dense = group_widths(load_model(dense_ckpt)[0])
    key = TableKey("iphone", "coreml", "fp16", IMGSZ, 1, 0, fingerprint(dense))  # merged before compute units were
    # keyed: served for the default units (ALL), the only ones it could have been asked for then
    table = LatencyTable(key=key, dense_ms=4.0, groups={n: GroupTiming(dense=w, widths=[8, w], ms=[4.0 - 0.05, 4.0])
                                                          for n, w in dense.items()})
    cached = write_json_atomic(table.to_dict(), cached_path(key, tmp_path))
    result = profile(dense_ckpt, hardware="iphone", format="coreml:fp16", imgsz=IMGSZ, cache_dir=tmp_path,
                     project=tmp_path / "runs", name="merged")
    assert result.report == table and result.cached == cached  # the name it was merged under, before units were keyed
    assert LatencyTable.load(result.run_dir / "latency_table.json") == table
    with pytest.raises(ConfigError, match="timed with compute units ALL, not CPU_ONLY"):
        profile(dense_ckpt, hardware="iphone", format="coreml:fp16", imgsz=IMGSZ, cache_dir=tmp_path,
                compute_units="CPU_ONLY")
    result = prune(dense_ckpt, target="latency", amount=0.9, latency_table=str(cached), imgsz=IMGSZ,
                   project=tmp_path / "runs", name="to-iphone", check=LatencyCheck(format="coreml:fp16"))
    assert result.latency["measured"] is None and "must run on the iphone" in result.latency["check"]
    assert result.latency["predicted"] <= 0.9 + 0.05


@pytest.mark.skipif(sys.platform != "darwin", reason="CoreML prediction needs macOS; the Mac path is run there")
def test_a_kit_timed_on_a_mac_is_labelled_mac(dense_ckpt, tmp_path):
    from yoloprune.profiling.kit import write_kit

    kit = write_kit(dense_ckpt, hardware="mac", format="coreml:fp16", imgsz=IMGSZ, project=tmp_path, groups=1,
                    validate=1, debug=True).kit
    subprocess.run([sys.executable, str(kit / "run_benchmark.py"), "--profile", "--runs", "3"], check=True)
    timings = json.loads((kit / "timings.json").read_text())
    assert timings["hardware"] == "mac" and timings["machine"]["chip"] and timings["machine"]["compute_units"] == "ALL"
    assert timings["compute_units"] == "ALL"  # the table's key: one per choice of units


def test_kits_are_only_for_other_devices(dense_ckpt, tmp_path):
    from yoloprune.profiling.kit import write_kit

    with pytest.raises(ConfigError, match="is this machine"):
        write_kit(dense_ckpt, hardware="intel-cpu", format="openvino:fp32", project=tmp_path)
    with pytest.raises(ConfigError, match="runs engine"):
        write_kit(dense_ckpt, hardware="jetson", format="coreml:fp16", project=tmp_path)
    with pytest.raises(ConfigError, match="chosen where the kit is timed"):
        write_kit(dense_ckpt, hardware="mac", format="coreml:fp16", compute_units="ALL", project=tmp_path)
    assert not list(tmp_path.iterdir())  # nothing written


def test_cli_profile_for_another_device_checks_before_writing(dense_ckpt, tmp_path):
    cmd = [sys.executable, "-m", "yoloprune", "profile", f"model={dense_ckpt}", "hardware=jetson", "format=coreml:fp16",
           "imgsz=64", "project=out"]
    p = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert p.returncode == 2 and "runs engine" in p.stderr and "Traceback" not in p.stderr
    assert not (tmp_path / "out").exists()
    p = subprocess.run([sys.executable, "-m", "yoloprune", "profile", "merge=missing/timings.json"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 2 and "merge=missing/timings.json is not readable" in p.stderr

    from yoloprune.cli import parse_args, run  # compute units: chosen where the kit is timed, used by prune

    with pytest.raises(ConfigError, match="chosen where the kit is timed"):
        run("profile", parse_args("profile", [f"model={dense_ckpt}", "hardware=mac", "format=coreml:fp16", "imgsz=64",
                                              "compute_units=CPU_AND_NE", f"project={tmp_path / 'kit'}"]))
    with pytest.raises(ConfigError, match="takes the units it was timed with from its timings"):
        run("profile", parse_args("profile", ["merge=timings.json", "compute_units=ALL"]))
    for extra in (["target=macs"], ["target=latency", "method=unstructured"], ["target=latency", "resume=true"]):
        with pytest.raises(ConfigError, match="picks the merged CoreML table"):
            run("prune", parse_args("prune", [f"model={dense_ckpt}", *extra, "compute_units=ALL",
                                              f"project={tmp_path / 'kit'}"]))
    assert not (tmp_path / "kit").exists()


def test_trtexec_latency_is_read_from_the_end_to_end_line():
    import importlib.util

    from yoloprune.profiling.timing import DEVICE_SCRIPT

    spec = importlib.util.spec_from_file_location("device_bench", DEVICE_SCRIPT)
    spec.loader.exec_module(script := importlib.util.module_from_spec(spec))
    trtexec_latency = script.trtexec_latency

    out = "\n".join(f"[11/29/2026-10:00:00] [I] {name}: min = 0.1 ms, max = 2 ms, mean = 1 ms, median = {p50} ms, "
                    f"percentile(50%) = {p50} ms, percentile(90%) = {p90} ms"
                    for name, p50, p90 in (("Latency", 0.82129, 0.83203), ("Enqueue Time", 0.1, 0.2),
                                           ("H2D Latency", 0.05, 0.06), ("GPU Compute Time", 0.74, 0.76),
                                           ("D2H Latency", 0.0153809, 0.02)))
    assert trtexec_latency(out) == {"50": "0.82129", "90": "0.83203"}  # not the D2H copy printed last
    assert trtexec_latency("[E] engine build failed") == {}


# ----------------------------------------------------------------------------- per-layer kits
@pytest.fixture(scope="module")
def layer_kit(dense_ckpt, tmp_path_factory):
    from yoloprune.profiling.kit import write_kit

    return write_kit(dense_ckpt, hardware="jetson", format="engine:fp16", imgsz=IMGSZ, method="layers",
                     project=tmp_path_factory.mktemp("layerkit"), name="exp", groups=3, validate=2, fit=3,
                     debug=True).kit


def test_a_per_layer_kit_ships_every_layer_shape_in_pairs_and_a_few_whole_variants(layer_kit, dense_ckpt):
    from yoloprune.core.layers import layer_map
    from yoloprune.core.prune import group_layout
    from yoloprune.integrations.ultralytics.model_io import load_model
    from yoloprune.profiling.config import GRID
    from yoloprune.profiling.kit import KitSpec
    from yoloprune.profiling.layers import site_grid, staircase_shapes

    text = (layer_kit / "kit.json").read_text()
    spec = KitSpec.from_dict(json.loads(text))
    assert json.dumps(spec.to_dict(), indent=2) == text and spec.method == "layers"
    roles = [s.role for s in spec.sets]
    assert roles.count("fit") == 3 and roles.count("validate") == 2 and {"group", "staircase"}.isdisjoint(roles)
    assert set(spec.variants) == {"dense", *(s.variants[0] for s in spec.sets if s.role != "layers")}
    assert not (layer_kit / "iphone_timings.csv").exists()  # never typed in by hand
    # each shape twice (one and two copies), its input as the layer runs in the model
    by_shape = {}
    for nid, n in spec.networks.items():
        assert (layer_kit / n.file).stat().st_size > 0 and n.file.endswith(".onnx")
        by_shape.setdefault(n.shape, []).append(n.copies)
        cin, hw = int(n.shape.split("-")[0][1:]), n.shape.split("-i")[1]
        assert n.input[:2] == [1, cin] and f"{n.input[2]}x{n.input[3]}" == hw
    assert all(sorted(c) == [1, 2] for c in by_shape.values())
    assert [v for s in spec.sets if s.role == "layers" for v in s.variants] == list(spec.networks)
    # every shape the merge reads: each changed site's grid, and the staircase group's exact widths
    net = load_model(dense_ckpt)[0]
    full = layer_map(net, IMGSZ)
    names = list(spec.dense)[:3]
    assert set(spec.layer_map.widths) == set(names)
    assert {s.name for s in spec.layer_map.sites} == {s.name for s in full.sites if s.groups() & set(names)}
    lm = spec.layer_map
    needed = {s.key() for i, site in enumerate(lm.sites) for s in site_grid(lm, i, GRID).shapes(site.dense)}
    needed |= {s.key() for s in staircase_shapes(lm, spec.staircase_group, group_layout(net).with_width)}
    assert needed == set(by_shape)


def _kit_shapes(spec):
    """Every convolution shape a per-layer kit's networks time, by key."""
    from yoloprune.core.prune import GroupLayout
    from yoloprune.profiling.layers import site_grid, staircase_shapes

    lm = spec.layer_map
    layout = GroupLayout(dict(spec.dense), tuple((b, a) for a, b in spec.twins.items()))
    shapes = [s for i, site in enumerate(lm.sites) for s in site_grid(lm, i, spec.fractions).shapes(site.dense)]
    return {s.key(): s for s in shapes + staircase_shapes(lm, spec.staircase_group, layout.with_width)}


def _synthetic_timings(spec, fixed=3.0, overhead=0.5):
    """What a device whose convolutions cost 1 ns per multiply-accumulate would time: each network its overhead
    plus its copies' cost, each whole variant its layers' exact sum plus a fixed part."""
    shapes = _kit_shapes(spec)

    def whole(changed):
        return fixed + sum(s.macs * 1e-6 for s in spec.layer_map.shapes({**spec.dense, **changed}))

    sets = []
    for s in spec.sets:
        if s.role == "layers":
            nets = [spec.networks[v] for v in s.variants]
            sets.append({"variants": list(s.variants), "ms": [overhead + n.copies * shapes[n.shape].macs * 1e-6
                                                              for n in nets]})
        else:
            sets.append({"variants": ["dense", *s.variants],
                         "ms": [whole({}), whole(spec.variants[s.variants[0]].changed)]})
    return {"kind": "yoloprune-profile-timings", "hardware": "jetson", "fingerprint": spec.fingerprint,
            "machine": {"model": "synthetic"}, "sets": sets}


def test_a_per_layer_kit_merges_into_the_layer_sum_and_recovers_the_fixed_part(layer_kit, tmp_path):
    """Synthetic device timings: the merged entries are exactly the layer sums (each layer's cost the difference
    of its two networks, the overhead gone), calibrated to scale 1 with the fixed part recovered."""
    from yoloprune.core.prune import GroupLayout
    from yoloprune.profiling.kit import KitSpec, table_from_timings

    spec = KitSpec.from_dict(json.loads((layer_kit / "kit.json").read_text()))
    table = table_from_timings(spec, _synthetic_timings(spec))
    lm = spec.layer_map
    dense = 3.0 + sum(s.macs * 1e-6 for s in lm.shapes())
    assert table.dense_ms == pytest.approx(dense) and table.measured_on["method"] == "layers"
    assert set(table.groups) == set(lm.widths)
    layout = GroupLayout(dict(spec.dense), tuple((b, a) for a, b in spec.twins.items()))
    for name, g in table.groups.items():  # the layer sums (before the joint model, when it wins, refits them)
        for w, ms in zip(g.widths, g.ms_isolated or g.ms):
            assert ms == pytest.approx(3.0 + sum(s.macs * 1e-6 for s in lm.shapes(layout.with_width(name, w))),
                                       rel=1e-6)
    assert table.staircase.group == spec.staircase_group
    assert table.staircase.widths[-1] == spec.dense[spec.staircase_group]
    assert table.validation.mape < 0.02 and len(table.validation.variants) == 2
    # calibrated without held-out variants: the scale is the layer sum's (1, up to the groups' interaction
    # that a per-group table cannot hold) and what it leaves of the dense model is the fixed part
    unjudged = replace(spec, sets=[s for s in spec.sets if s.role != "validate"])
    table = table_from_timings(unjudged, _synthetic_timings(unjudged))
    assert table.calibration == pytest.approx(1.0, abs=0.05)
    assert table.measured_on["fixed_ms"] == pytest.approx(3.0, abs=0.1)


def test_a_per_layer_kit_is_timed_by_its_runner_and_merged(layer_kit, tmp_path):
    from yoloprune.profiling.kit import merge

    done = subprocess.run([sys.executable, str(layer_kit / "run_benchmark.py"), "--profile", "--dry-run",
                           "--runs", "3", "--warmup", "1"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    spec = json.loads((layer_kit / "kit.json").read_text())
    timings = json.loads((layer_kit / "timings.json").read_text())
    layer_sets = [t for s, t in zip(spec["sets"], timings["sets"]) if s["role"] == "layers"]
    assert layer_sets and all("dense" not in t["variants"] for t in layer_sets)  # networks against each other
    table = LatencyTable.load(merge(layer_kit / "timings.json", cache_dir=tmp_path))
    assert table.key.hardware == "dry-run" and table.measured_on["method"] == "layers"
    assert table.staircase.ms and len(table.validation.variants) == 2 and table.dense_ms > 0


def test_a_macs_per_layer_kit_ships_coreml_layer_packages(dense_ckpt, tmp_path):
    import coremltools as ct

    from yoloprune.profiling.kit import write_kit

    kit = write_kit(dense_ckpt, hardware="mac", format="coreml:fp16", imgsz=IMGSZ, method="layers", project=tmp_path,
                    groups=1, validate=0, fit=1, debug=True).kit
    spec = json.loads((kit / "kit.json").read_text())
    assert spec["method"] == "layers" and len(spec["variants"]) == 2  # dense and the one fit variant
    for network in spec["networks"].values():
        assert network["file"].endswith(".mlpackage")
        loaded = ct.utils.load_spec(str(kit / network["file"]))
        assert list(loaded.description.input[0].type.multiArrayType.shape) == network["input"]
    with pytest.raises(ConfigError, match="typed in from Xcode"):
        write_kit(dense_ckpt, hardware="iphone", format="coreml:fp16", method="layers", project=tmp_path / "x")
