"""Latency tables and what is computed from them: round trip, the knapsack, round_to=auto, the closed loop,
and target=latency through prune_ on a real model (synthetic tables: no timing in unit tests)."""

import json
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from models import IMGSZ, build
from models import synthetic_latency_table as _table
from yoloprune.core.config import PruneConfig
from yoloprune.core.latency import (GroupTiming, LatencyTable, Staircase, TableKey, Validation, ValidationRow, calibrate,
                                    choose_model, close_loop, fingerprint, knapsack, staircase_step)
from yoloprune.core.prune import group_widths, prune_
from yoloprune.errors import ConfigError
from yoloprune.io import write_json_atomic


def test_table_round_trips_through_json(tmp_path):
    table = _table({"a": (64, 0.1), "b": (32, 0.5)}, staircase={"group": "a", "widths": [8, 16], "ms": [1.0, 1.0]})
    table.validation = Validation(variants=[ValidationRow(predicted=90.0, measured=91.0)], mape=0.011)
    path = write_json_atomic(table.to_dict(), tmp_path / "t.json")
    back = LatencyTable.load(path)
    assert back == table and back.predict({"a": 32, "b": 16}) == pytest.approx(100 - 3.2 - 8.0)
    with pytest.raises(ConfigError, match="not a yoloprune latency table"):
        LatencyTable.from_dict({"key": {}})
    with pytest.raises(ConfigError, match="a group with 2 widths and 1 timings"):
        LatencyTable.from_dict({**table.to_dict(), "groups": {"a": {"dense": 64, "widths": [32, 64], "ms": [1.0]}}})
    with pytest.raises(ConfigError, match="not a yoloprune latency table .*group"):
        LatencyTable.from_dict({**table.to_dict(), "groups": {"a": {"dense": 64, "widths": [64], "ms": [1.0], "x": 1}}})
    with pytest.raises(ConfigError, match="another architecture"):
        table.check_model({"a": 64, "b": 48})


# a table as written before its records were dataclasses: plain-dict groups (a split block's twin, a joint model's
# isolated timings), the staircase, and the validation record of a chosen joint model with its variants
OLD_LAYOUT = {
    "key": {"hardware": "intel-cpu", "runtime": "openvino", "precision": "fp32", "imgsz": 320, "batch": 1,
            "threads": 2, "fingerprint": "0123456789abcdef", "units": ""},
    "dense_ms": 10.5,
    "groups": {
        "model.2.cv1.conv": {"dense": 32, "widths": [8, 16, 24, 32], "ms": [9.5, 9.8, 10.1, 10.5],
                             "ms_isolated": [10.0, 10.2, 10.4, 10.5]},
        "model.2.cv1.conv#b": {"dense": 32, "widths": [8, 16, 24, 32], "ms": [10.5, 10.5, 10.5, 10.5],
                               "paired_with": "model.2.cv1.conv"},
        "model.3.conv": {"dense": 64, "widths": [16, 32, 48, 64], "ms": [9.0, 9.6, 10.0, 10.5],
                         "ms_isolated": [10.1, 10.3, 10.4, 10.5]},
    },
    "staircase": {"group": "model.3.conv", "widths": [32, 40, 48, 56, 64], "ms": [9.6, 9.9, 10.0, 10.4, 10.5]},
    "validation": {"mape_additive": 0.08, "mape_isolated_calibrated": 0.05, "mape_joint": 0.02, "model": "joint",
                   "mape": 0.02, "fit_variants": 20, "mape_note": "joint model, fitted on 20 random variants, "
                   "measured on 1 others", "calibration": 1.0,
                   "variants": [{"predicted": 10.0, "measured": 9.7, "raw_ms": 9.9, "dense_ms": 10.7,
                                 "widths": {"model.3.conv": 40}}]},
    "measured_on": {"cpu": "AMD EPYC", "cpu_flags": ["avx512f"], "system": "Linux", "runs": 40},
    "calibration": 1.0,
    "model": "joint",
}


def test_a_table_in_the_old_layout_round_trips_unchanged():
    """A table cached before its records were dataclasses loads as they are, and is written back the same: the
    same dict, the same JSON text (key order included)."""
    table = LatencyTable.from_dict(json.loads(json.dumps(OLD_LAYOUT)))
    assert table.to_dict() == OLD_LAYOUT and json.dumps(table.to_dict(), indent=2) == json.dumps(OLD_LAYOUT, indent=2)
    twin = table.groups["model.2.cv1.conv#b"]
    assert twin.paired and twin.paired_with == "model.2.cv1.conv" and not table.groups["model.3.conv"].paired
    assert table.groups["model.3.conv"].ms_isolated == [10.1, 10.3, 10.4, 10.5]
    assert table.validation.variants[0].widths == {"model.3.conv": 40} and table.validation.model == "joint"
    calibrated = {"variants": [{"predicted": 90.0, "measured": 91.0, "raw_ms": 90.5, "dense_ms": 99.0, "widths": {}}],
                  "mape_additive": 0.02, "calibration": 1.1, "mape": 0.01,
                  "mape_note": "calibrated model, fitted on the first half of the variants, measured on the second"}
    for validation in (calibrated, {"variants": [{"predicted": 90.0, "measured": 91.0}], "mape": 0.011}):  # the oldest
        old = {**OLD_LAYOUT, "validation": validation}
        assert json.dumps(LatencyTable.from_dict(old).to_dict()) == json.dumps(old)
    assert LatencyTable.from_dict({**OLD_LAYOUT, "staircase": None, "validation": None}).to_dict() == \
        {**OLD_LAYOUT, "staircase": None, "validation": None}


@pytest.mark.parametrize("path", sorted(Path(__file__).resolve().parents[2].glob("benchmarks/results/**/latency_table.json")),
                         ids=lambda p: p.parent.name)
def test_the_tables_measured_for_the_benchmarks_round_trip(path):
    """Real tables written by earlier versions (some before compute units were keyed or the joint model existed:
    those fields come back at their defaults, nothing else changes)."""
    old = json.loads(path.read_text())
    expected = {**old, "key": {**old["key"], "units": old["key"].get("units", "")}, "model": old.get("model")}
    assert json.dumps(LatencyTable.from_dict(old).to_dict(), indent=2) == json.dumps(expected, indent=2)


def test_the_records_still_read_like_the_dicts_they_were():
    """Scripts written against the dict records keep working, with a DeprecationWarning naming the attribute."""
    table = LatencyTable.from_dict(OLD_LAYOUT)
    twin, group = table.groups["model.2.cv1.conv#b"], table.groups["model.3.conv"]
    with pytest.warns(DeprecationWarning, match=r"read \.ms instead"):
        assert group["ms"] == group.ms
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert "paired_with" in twin and "paired_with" not in group and "ms_isolated" in group
    with pytest.raises(KeyError):
        group["paired_with"]
    with pytest.warns(DeprecationWarning):
        assert table.validation["mape"] == 0.02 and table.staircase["group"] == "model.3.conv"
        assert table.validation.get("mape_joint") == 0.02 and table.validation.variants[0]["widths"]


def test_cache_names_stay_and_coreml_compute_units_get_their_own_table():
    from dataclasses import asdict, replace

    key = TableKey("intel-cpu", "openvino", "fp32", 640, 1, 2, "0123456789abcdef")
    assert key.slug() == "intel-cpu-openvino-fp32-640-075ed2a14ff0"  # the name it was cached under before units
    assert TableKey(**{k: v for k, v in asdict(key).items() if k != "units"}) == key  # a table's JSON from then
    ne = TableKey("mac", "coreml", "fp16", 640, 1, 0, "0123456789abcdef", "CPU_AND_NE")
    assert ne.slug().startswith("mac-coreml-fp16-640-cpu_and_ne-")
    assert len({ne.slug(), replace(ne, units="ALL").slug(), replace(ne, units="").slug()}) == 3


def _random_rows(table, truth, n, seed):
    """Whole variants measured by ``truth(widths) -> ms`` (every group at a random multiple of 8)."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        widths = {g: int(8 * rng.integers(1, t.dense // 8 + 1)) for g, t in table.groups.items()}
        rows.append(ValidationRow(predicted=table.predict(widths, calibrated=False), measured=truth(widths),
                                  widths=widths))
    return rows


def test_the_joint_model_wins_where_groups_save_together_what_they_do_not_alone():
    """Isolated timings say each group saves little; whole variants save beta_g per group pruned to nothing."""
    beta = {"a": 20.0, "b": 10.0, "c": 5.0}
    table = _table({"a": (64, 0.01), "b": (32, 0.01), "c": (16, 0.01)})

    def truth(widths):
        return 100.0 - sum(b * (1 - widths[g] / table.groups[g].dense) for g, b in beta.items())

    record = choose_model(table, _random_rows(table, truth, 30, 0), val := _random_rows(table, truth, 10, 1))
    assert record.model == table.model == "joint" and record.mape < 0.01 < record.mape_isolated_calibrated
    assert record.variants == val and record.fit_variants == 30
    for r in val:  # the table itself now predicts whole variants: the knapsack reads it unchanged
        assert table.predict(r.widths) == pytest.approx(r.measured, rel=0.01)
    assert table.calibration == 1.0 and table.groups["a"].ms_isolated[0] == pytest.approx(100 - 0.01 * 56)


def test_the_isolated_model_stays_where_savings_add_up():
    table = _table({"a": (64, 0.2), "b": (32, 0.3)})
    dense = {"a": 64, "b": 32}

    def truth(widths):  # additive, but with a staircase the joint (linear) model cannot follow
        return table.predict({**dense, **{g: 16 * -(-w // 16) for g, w in widths.items()}}, calibrated=False)

    record = choose_model(table, _random_rows(table, truth, 30, 0), _random_rows(table, truth, 10, 1))
    assert record.model == table.model == "isolated" and record.mape < record.mape_joint
    assert table.groups["a"].ms_isolated is None


def test_calibration_is_kept_within_reason():
    assert calibrate(10.0, [1.0, 2.0], [2.0, 4.0]) == pytest.approx(2.0)
    assert calibrate(10.0, [-1.0, -0.5], [3.0, 2.0]) == 0.25  # noise made the isolated savings negative
    assert calibrate(10.0, [0.1, 0.1], [3.0, 3.0]) == 4.0


def test_knapsack_meets_the_budget_and_prefers_cheap_milliseconds():
    """Equal importance everywhere: the channels that buy the most milliseconds go first."""
    table = _table({"slow": (64, 1.0), "fast": (64, 0.1)})
    scores = [np.ones(64), np.ones(64)]
    allowed = [list(range(8, 65, 8))] * 2
    keep = knapsack(scores, allowed, ["slow", "fast"], [], table, budget_ms=60.0)
    predicted = table.predict({"slow": int(keep[0]), "fast": int(keep[1])})
    assert predicted <= 60.0 and predicted > 60.0 - 8 * 1.0  # met, within one rounding step of the budget
    assert keep[0] < 64 and keep[1] == 64  # the group whose channels cost milliseconds is the one pruned
    # importance decides between equally expensive groups
    table = _table({"a": (64, 0.5), "b": (64, 0.5)})
    keep = knapsack([np.full(64, 10.0), np.full(64, 0.1)], allowed, ["a", "b"], [], table, budget_ms=90.0)
    assert keep[0] == 64 and keep[1] < 64
    with pytest.raises(ConfigError, match="cannot be reached"):
        knapsack(scores, allowed, ["slow", "fast"], [], table, budget_ms=1.0)


def test_knapsack_crosses_a_flat_stair_instead_of_pruning_elsewhere():
    """``stair`` saves nothing from 64 to 56 channels, then 5 ms per 8: crossing the stair buys 5 ms for 16
    channels; ``steady`` saves 0.4 ms per 8 channels. A one-step greedy sees the flat step as worthless and
    thins ``steady`` instead, at twelve times the importance per millisecond."""
    table = _table({"stair": (64, 0.0), "steady": (64, 0.05)})
    table.groups["stair"] = replace(table.groups["stair"], ms=[100.0 - 5.0 * ((56 - w) // 8) if w <= 56 else 100.0
                                                               for w in range(8, 65, 8)])
    allowed = [list(range(8, 65, 8))] * 2
    keep = knapsack([np.ones(64), np.ones(64)], allowed, ["stair", "steady"], [], table, budget_ms=96.0)
    assert keep.tolist() == [48, 64]


def test_knapsack_says_which_limit_stopped_it():
    """A table profiled down to half of each width (fractions=0.5) predicts nothing below it: asking for more
    names that fix (smaller fractions), not the floors; floors and groups that save nothing are named as such."""
    table = _table({"a": (64, 0.5), "b": (64, 0.5)}, step=32)  # measured at 32 and 64 channels only
    allowed = [list(range(8, 65, 8))] * 2
    with pytest.raises(ConfigError, match=r"predicts at best 68.00 ms .*2 as narrow as the table was measured "
                                          r"\(down to 50%.*fractions=") as e:
        knapsack([np.ones(64)] * 2, allowed, ["a", "b"], [], table, budget_ms=50.0)
    assert "floor" not in str(e.value) and "save nothing" not in str(e.value)
    with pytest.raises(ConfigError, match=r"2 at their floor \(min_channels"):
        knapsack([np.ones(64)] * 2, [[32, 40, 48, 56, 64]] * 2, ["a", "b"], [], table, budget_ms=50.0)
    table = _table({"a": (64, 0.5), "free": (64, 0.0)})  # a joint model's group with no fitted saving
    with pytest.raises(ConfigError, match=r"1 at their floor .*1 that the table predicts save nothing narrower"):
        knapsack([np.ones(64)] * 2, allowed, ["a", "free"], [], table, budget_ms=50.0)


def test_the_floor_is_the_lowest_latency_the_table_predicts():
    """What pruning can reach by a table: measured down to 32 of 64 channels, ``a`` and ``b`` save 16 and 8 ms
    at 32; ``c`` saves 4 ms at 48 but timed slower again at 32 (a width off the CPU's blocks): its best width
    counts, not its narrowest; the twin half of a split block saves with its partner, never on its own."""
    table = _table({"a": (64, 0.5), "b": (64, 0.25)}, step=32)
    table.groups["c"] = GroupTiming(dense=64, widths=[32, 48, 64], ms=[98.0, 96.0, 100.0])
    table.groups["twin"] = GroupTiming(dense=64, widths=[32, 64], ms=[50.0, 100.0], paired_with="a")
    assert table.floor_ms() == pytest.approx(100 - 16 - 8 - 4)
    assert all(table.floor_ms() <= table.predict({"a": a, "b": b, "c": c})
               for a in (32, 64) for b in (32, 64) for c in (32, 48, 64))
    table.calibration = 0.5  # savings that do not fully add up lift the floor
    assert table.floor_ms() == pytest.approx(100 - 14)


def test_knapsack_keeps_split_halves_equal():
    table = _table({"a": (64, 1.0), "b": (64, 0.0), "c": (64, 0.5)})
    keep = knapsack([np.ones(64)] * 3, [list(range(8, 65, 8))] * 3, ["a", "b", "c"], [(0, 1)], table, 70.0)
    assert keep[0] == keep[1]


@pytest.mark.parametrize("block, expected", [(16, 16), (32, 32), (1, 8)])
def test_round_to_auto_reads_the_staircase(block, expected):
    widths = list(range(8, 129, 8))
    ms = [float(np.ceil(w / block)) for w in widths]  # latency climbs one step per block of channels
    assert staircase_step(widths, ms) == expected
    table = _table({"a": (128, 0.1)}, staircase={"group": "a", "widths": widths, "ms": ms})
    assert table.round_to() == expected


def test_closed_loop_converges_on_a_synthetic_measurer():
    """The table is optimistic (real latency 1.25x the prediction's saving): the loop asks it for less."""
    def solve(budget):
        return {"budget": budget}, budget

    def measure(state):
        return 1 - 0.8 * (1 - state["budget"])  # only 80 % of the predicted saving materialises

    state, best, tried = close_loop(0.5, solve, measure, tolerance=0.02, iterations=6)
    assert abs(best["measured"] - 0.5) <= 0.02 * 0.5 and len(tried) > 1
    assert tried[0]["measured"] > 0.5 and state["budget"] < 0.5  # first miss: too slow; then a smaller budget
    _, best, tried = close_loop(0.5, solve, measure, tolerance=0.02, iterations=1)
    assert len(tried) == 1 and best["measured"] == pytest.approx(0.6)  # no iterations left: the record says so

    def reachable_down_to(budget):  # the table cannot go below 0.25 of dense
        if budget < 0.25:
            raise ConfigError("cannot be reached")
        return {"budget": budget}, budget

    state, best, tried = close_loop(0.3, reachable_down_to, measure, tolerance=0.02, iterations=5)
    assert tried[-1].get("error") and state["budget"] == 0.3  # the best reachable, and the record says why it stopped


@pytest.mark.parametrize("allocation", ["global", "knapsack"])
def test_target_latency_prunes_a_real_model_to_the_table(tmp_path, allocation):
    """The global ranking is cut where the table predicts the budget (within tolerance); the knapsack spends it
    (never over it)."""
    torch.manual_seed(0)
    model = build("yolov8n.yaml")
    dense = group_widths(model)
    table = _table({name: (w, 0.02) for name, w in dense.items()}, dense_ms=50.0,
                   staircase={"group": "x", "widths": list(range(8, 129, 8)),
                              "ms": [float(np.ceil(w / 16)) for w in range(8, 129, 8)]})
    path = write_json_atomic(table.to_dict(), tmp_path / "table.json")
    report = prune_(model, PruneConfig(criterion="l2", target="latency", amount=0.6, latency_table=str(path),
                                       round_to="auto", imgsz=IMGSZ, allocation=allocation))
    widths = group_widths(model)
    predicted = table.predict(widths) / table.dense_ms
    assert report.achieved == pytest.approx(predicted) and (
        predicted <= 0.6 if allocation == "knapsack" else abs(predicted - 0.6) <= 0.03 * 0.6)
    assert all(w % 16 == 0 or w == dense[n] for n, w in widths.items())  # round_to=auto: the staircase's 16
    with pytest.raises(ConfigError, match="needs the target's latency table"):  # only the workflows profile one
        prune_(model, PruneConfig(target="latency"))
    with pytest.raises(ConfigError, match="allocation=knapsack spends a latency budget"):
        PruneConfig(target="macs", allocation="knapsack")
    with pytest.raises(ConfigError, match="round_to=auto reads"):
        PruneConfig(round_to="auto")


def test_a_planned_step_prunes_an_already_pruned_model_on_its_dense_table(tmp_path):
    """A progressive run at target=latency prunes at every step: from the second on, the model is narrower than the
    table's dense model it is a pruning of (the step used to fail: 'measured for another architecture'). A search
    on such a model is still refused: the amount would be of another model's latency."""
    torch.manual_seed(0)
    model = build("yolov8n.yaml")
    dense = group_widths(model)
    table = _table({name: (w, 0.02) for name, w in dense.items()}, dense_ms=50.0)
    path = write_json_atomic(table.to_dict(), tmp_path / "table.json")
    cfg = PruneConfig(criterion="l2", target="latency", amount=0.6, latency_table=str(path), imgsz=IMGSZ)
    prune_(model, cfg, widths={n: max(8, int(w * 0.75) // 8 * 8) for n, w in dense.items()})
    final = {n: max(8, int(w * 0.5) // 8 * 8) for n, w in dense.items()}
    report = prune_(model, cfg, widths=final)
    assert group_widths(model) == final
    assert report.achieved == pytest.approx(table.predict(final) / table.dense_ms)
    with pytest.raises(ConfigError, match="another architecture"):
        prune_(model, cfg)
    narrow = write_json_atomic(_table({n: (w, 0.02) for n, w in final.items()}).to_dict(), tmp_path / "narrow.json")
    with pytest.raises(ConfigError, match="another architecture"):  # a model wider than the table's: not its table
        prune_(build("yolov8n.yaml"), replace(cfg, latency_table=str(narrow)), widths=final)
