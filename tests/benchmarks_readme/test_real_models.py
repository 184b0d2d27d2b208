"""benchmarks/real_data.py and real_models.py: polygon labels become boxes, the arm names parse to what they
say (and a wrong one is refused naming the choices), and the report reads a partial run without inventing cells."""

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import real_data
import real_models
import real_models_report


def test_polygon_rows_become_their_bounding_boxes_and_boxes_stay():
    text = "1 0.5 0.5 0.2 0.4\n3 0.1 0.2 0.3 0.2 0.3 0.6 0.1 0.6\n\n"
    rows = [r.split() for r in real_data.box_rows(text).splitlines()]
    assert rows[0] == ["1", "0.5", "0.5", "0.2", "0.4"]
    cls, *box = rows[1]
    assert cls == "3" and [float(v) for v in box] == pytest.approx([0.2, 0.4, 0.2, 0.4])
    assert real_data.box_rows("") == ""


def test_a_polygon_outside_the_image_is_clipped():
    box = [float(v) for v in real_data.box_rows("0 -0.1 0.5 0.4 0.5 0.4 1.2\n").split()[1:]]
    assert box == pytest.approx([0.2, 0.75, 0.4, 0.5])


def test_every_dataset_pins_a_commit_and_its_licence():
    for ds in real_data.DATASETS.values():
        assert len(ds.commit) == 40 and ds.licence and sum(ds.expected.values()) > 0
        assert ds.record()["commit"] == ds.commit and ds.repo in ds.cite()


def test_arm_names_parse_to_their_base_amount_and_changes():
    arm = real_models.Arm.parse("oneshot-0.5+bn+native")
    assert (arm.base, arm.amount, arm.changes) == ("oneshot", 0.5, ("bn", "native"))
    assert arm.run_name(10, 1) == "oneshot-0.5+bn+native-e10-seed1"
    assert real_models.Arm.parse("dense").amount is None


def test_a_change_of_the_cut_names_its_own_pruned_model_and_others_share_the_base():
    floor = real_models.Arm.parse("oneshot-0.5+floor+native")
    assert floor.pruned_key == "oneshot-0.5+floor" and floor.prune_options == {"max_layer_ratio": 0.75}
    plain = real_models.Arm.parse("oneshot-0.5+bn+native")
    assert plain.pruned_key == "oneshot-0.5" and plain.prune_options == {}
    pinned = SimpleNamespace(state=SimpleNamespace(data={"base_prune": {"max_layer_ratio": 0.9}}))
    assert real_models.Bench.prune_options(pinned, plain) == {"max_layer_ratio": 0.9}  # a moved default, pinned
    assert real_models.Bench.prune_options(pinned, floor) == {"max_layer_ratio": 0.75}  # the change wins


def test_a_progressive_only_change_is_tried_on_the_progressive_twin():
    assert real_models.recovery_arm("oneshot-0.5", "native") == "oneshot-0.5+native"
    assert real_models.recovery_arm("oneshot-0.5", "floor") == "oneshot-0.5+floor"
    assert real_models.recovery_arm("oneshot-0.5", "sparsity") == "progressive-0.5+sparsity"
    assert real_models.recovery_arm("oneshot-0.5", "floor+late") == "progressive-0.5+floor+late"
    real_models.Arm.parse(real_models.recovery_arm("oneshot-0.5", "floor+late"))  # a valid arm
    assert real_models.recovery_arm("oneshot-0.5", "progressive-0.67+floor") == "progressive-0.67+floor"  # as is


@pytest.mark.parametrize("name, says", [("oneshot-0.5+warp", "low-lr, bn, native, ours, sparsity"),
                                        ("oneshot-0.5+sparsity", "progressive"), ("dense-0.5", "dense, oneshot-A"),
                                        ("oneshot", "dense, oneshot-A"), ("oneshot-abc", "dense, oneshot-A"),
                                        ("progressive-0.5+native", "applies to oneshot"),
                                        ("oneshot-0.5+late", "applies to progressive"),
                                        ("oneshot-0.5+native+ours", "one distillation at a time")])
def test_a_wrong_arm_is_refused_naming_the_choices(name, says):
    with pytest.raises(SystemExit, match=says):
        real_models.Arm.parse(name)


def test_the_report_of_a_partial_run_marks_what_is_missing(tmp_path):
    args = SimpleNamespace(data=str(tmp_path / "data.yaml"), imgsz=320, threads=2, epochs=10, seeds=[0, 1],
                           amounts=[0.67, 0.5], recover="oneshot-0.5", recovery=["bn"], recovery_seeds=[0],
                           curve=[2, 10], out=str(tmp_path))
    loop = {"asked": 0.5, "predicted": 0.49, "measured": 0.52}
    state = real_models.State(tmp_path / "state.json")
    state.data["pruned"]["oneshot-0.5"] = {"macs_kept": 0.4, "params_kept": 0.3, "loop": loop, "zero_shot_val": 0.1,
                                           "zero_shot_bn_val": 0.2}
    run = lambda arm, seed, val: {"arm": arm, "epochs": 10, "seed": seed, "val": val, "test": val - 0.01}
    state.data["runs"] = {f"{a}-{s}": run(a, s, v) for a, s, v in
                          (("dense", 0, 0.50), ("dense", 1, 0.52), ("oneshot-0.5", 0, 0.49), ("oneshot-0.5", 1, 0.50))}
    state.data["superseded"] = {"oneshot-0.5-0": {"val": 0.3, "test": 0.29, "reason": "before the fix"},
                                "oneshot-0.5-7": {"val": 0.1, "test": 0.1, "reason": "before the fix"}}
    bench = SimpleNamespace(state=state, args=args, out=tmp_path, main_arms=lambda: ["dense", "oneshot-0.67",
                                                                                      "oneshot-0.5"],
                            recovery_arms=lambda: ["oneshot-0.5+bn"])
    real_models_report.write(bench)
    table = (tmp_path / "table.md").read_text()
    assert "| oneshot-0.67 |  |  |  | not run |" in table
    assert "| oneshot-0.5 | 0.520 | 1.92x | 0.400 | 0.4950 ± 0.0071 (2) | -1.5 |" in table
    assert "Goal oneshot-0.5 (val): within 1 point(s) of dense: NOT met (-1.50 points, seeds [0, 1])" in table
    assert "| oneshot-0.5-0 | 0.3000 | 0.2900 | 0.4900 | 0.4800 | before the fix |" in table
    assert "| oneshot-0.5-7 | 0.1000 | 0.1000 | not rerun yet |  | before the fix |" in table
    results = json.loads((tmp_path / "results.json").read_text())
    assert [g["met"] for g in results["goals"]] == [False, False]

    # the best pipeline (--best, an arm with changes) joins the main table with its goal, at its seeds
    args.best = "oneshot-0.5+bn"
    state.data["runs"]["bn-0"] = run("oneshot-0.5+bn", 0, 0.495)
    real_models_report.write(bench)
    table = (tmp_path / "table.md").read_text()
    assert "| oneshot-0.5+bn | 0.520 | 1.92x |  | 0.4950 ± 0.0000 (1) | -0.5 |" in table
    assert "Goal oneshot-0.5+bn (val): within 1 point(s) of dense: met (-0.50 points, seeds [0])" in table
    assert not (tmp_path / "tradeoff.png").exists()  # nothing timed yet: no trade-off plotted


def test_superseded_runs_are_set_aside_with_their_reason_and_train_again(tmp_path):
    """--supersede progressive: the runs of progressive arms (and their changes) leave ``runs`` for ``superseded``
    with the reason, their folders are renamed (a rerun trains anew instead of finding them finished), the speed
    table is dropped, and the report shows them beside their reruns."""
    state = real_models.State(tmp_path / "state.json")
    run = lambda arm, val: {"arm": arm, "epochs": 10, "seed": 0, "val": val, "test": val,
                            "weights": str(tmp_path / "runs" / "train" / f"{arm}-e10-seed0" / "weights" / "best.pt")}
    state.data["runs"] = {f"{a}-e10-seed0": run(a, v) for a, v in
                          (("dense", 0.5), ("progressive-0.5", 0.2), ("progressive-0.5+sparsity", 0.25))}
    state.data["timing"] = {"models": {"dense fp32": {}}}
    for name in state.data["runs"]:
        (tmp_path / "runs" / "train" / name / "weights").mkdir(parents=True)
    bench = SimpleNamespace(state=state, runs=tmp_path / "runs")
    gone = real_models.Bench.supersede(bench, "progressive", "before the fix")
    assert gone == ["progressive-0.5-e10-seed0", "progressive-0.5+sparsity-e10-seed0"]
    assert list(state.data["runs"]) == ["dense-e10-seed0"] and state.data["timing"] == {}
    old = state.data["superseded"]["progressive-0.5-e10-seed0"]
    assert old["reason"] == "before the fix" and old["val"] == 0.2
    assert not (tmp_path / "runs" / "train" / "progressive-0.5-e10-seed0").exists()
    assert (tmp_path / "runs" / "train" / "progressive-0.5-e10-seed0.superseded" / "weights").is_dir()
    assert json.loads((tmp_path / "state.json").read_text())["superseded"].keys() == set(gone)


def test_renamed_runs_swap_names_with_their_folders_and_keep_where_they_came_from(tmp_path):
    """--rename a=b,c=a (a default changed: arm a's settings are now arm c's): runs and set-aside runs get the new
    names, folders follow (a swap through temporary names), every renamed run keeps its old name and the reason."""
    state = real_models.State(tmp_path / "state.json")
    folder = lambda name: tmp_path / "runs" / "train" / name
    run = lambda arm, val, name: {"arm": arm, "epochs": 10, "seed": 0, "val": val, "test": val,
                                  "weights": str(folder(name) / "weights" / "best.pt")}
    state.data["runs"] = {"progressive-0.5-e10-seed0": run("progressive-0.5", 0.2, "progressive-0.5-e10-seed0"),
                          "progressive-0.5+early-e10-seed0": run("progressive-0.5+early", 0.3,
                                                                 "progressive-0.5+early-e10-seed0")}
    state.data["superseded"] = {"progressive-0.5-e10-seed1": run("progressive-0.5", 0.1,
                                                                 "progressive-0.5-e10-seed1.superseded")}
    state.data["timing"] = {"models": {"progressive-0.5 fp32": {}}}
    for name in ("progressive-0.5-e10-seed0", "progressive-0.5+early-e10-seed0",
                 "progressive-0.5-e10-seed1.superseded"):
        (folder(name) / "weights").mkdir(parents=True)
        (folder(name) / "weights" / "best.pt").write_text(name)
    bench = SimpleNamespace(state=state, runs=tmp_path / "runs")
    done = real_models.Bench.rename(bench, {"progressive-0.5": "progressive-0.5+late",
                                            "progressive-0.5+early": "progressive-0.5"}, "the default changed")
    assert len(done) == 3
    runs = state.data["runs"]
    assert set(runs) == {"progressive-0.5+late-e10-seed0", "progressive-0.5-e10-seed0"}
    assert runs["progressive-0.5-e10-seed0"]["val"] == 0.3 and runs["progressive-0.5+late-e10-seed0"]["val"] == 0.2
    assert runs["progressive-0.5-e10-seed0"]["renamed"] == [{"from": "progressive-0.5+early-e10-seed0",
                                                             "reason": "the default changed"}]
    assert Path(runs["progressive-0.5-e10-seed0"]["weights"]).read_text() == "progressive-0.5+early-e10-seed0"
    assert Path(runs["progressive-0.5+late-e10-seed0"]["weights"]).read_text() == "progressive-0.5-e10-seed0"
    old = state.data["superseded"]["progressive-0.5+late-e10-seed1"]
    assert old["arm"] == "progressive-0.5+late" and Path(old["weights"]).read_text().endswith("seed1.superseded")
    assert state.data["timing"] == {}  # the speed table named the old arms
