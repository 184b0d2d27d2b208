"""The verb end to end on a tiny model (shapes-mini, 64 px, a latency table no one timed, OpenVINO timing the
models for real): its outputs, resuming, the clear errors; and two real trials on a local Ray instance."""

import json

import pytest

from yoloprune.errors import ConfigError


@pytest.fixture(scope="module")
def table(dense_ckpt, tmp_path_factory):
    from models import synthetic_latency_table

    from yoloprune.core.prune import group_widths
    from yoloprune.integrations.ultralytics.model_io import load_model
    from yoloprune.io import write_json_atomic

    dense = group_widths(load_model(dense_ckpt)[0])
    t = at_64(synthetic_latency_table({name: (w, 0.05) for name, w in dense.items()}, dense_ms=60.0))
    return str(write_json_atomic(t.to_dict(), tmp_path_factory.mktemp("table") / "table.json"))


def at_64(table):
    """The table as if timed at the tests' 64 px (a search refuses a table of another size)."""
    from dataclasses import replace

    table.key = replace(table.key, imgsz=64)
    return table


TRAIN = {"batch": 8, "workers": 0, "plots": False}


def options(table, **more):
    return {"trials": 2, "epochs": 2, "amounts": (0.5, 0.9), "imgsz": 64, "latency_table": table, "runs": 5,
            "max_drop": 50.0, **more}


@pytest.fixture(scope="module")
def searched(dense_ckpt, mini_data, table, tmp_path_factory):
    from yoloprune import search

    project = tmp_path_factory.mktemp("search")
    return search(dense_ckpt, data=mini_data, train_args=TRAIN, project=project, name="exp",
                  **options(table, schedules=("progressive", "oneshot")))


def test_a_search_writes_its_record_plot_table_and_recommendation(searched):
    record = json.loads(searched.report_json.read_text())
    trials = record["trials"]
    assert [t["spec"]["amount"] for t in trials] == [0.9, 0.5] and all(t["status"] == "finished" for t in trials)
    for t in trials:
        assert len(t["maps"]) == 2 and t["latency"] is not None and t["dense_ms"] > 0  # timed here, for real
        assert t["closed_loop"] is not None  # the budget was corrected on the dense model before training
    assert (searched.run_dir / "pareto.png").stat().st_size > 10_000
    assert "| trial |" in (searched.run_dir / "trials.md").read_text()
    assert searched.checkpoint is not None and searched.checkpoint.exists()  # max_drop=50 points: any trial fits
    best = searched.recommended
    assert best.timed == min(t.timed for t in searched.front)
    assert searched.command.startswith("yolo-prune prune model=") and "epochs=30" in searched.command
    assert record["recommended_map"] is not None and record["dense_map"] is not None


def test_resume_runs_only_the_interrupted_trial(searched, dense_ckpt, mini_data, table, monkeypatch):
    from yoloprune import search
    from yoloprune.searching import search as module

    record = json.loads(searched.report_json.read_text())
    first = record["trials"][0]
    record["trials"][1]["status"] = "running"  # as if the search had been stopped during the second trial
    searched.report_json.write_text(json.dumps(record))
    ran = []

    def counting(job, report):
        ran.append(job.index)
        return module.__dict__["_real_run_trial"](job, report)

    monkeypatch.setattr(module, "_real_run_trial", module.run_trial, raising=False)
    monkeypatch.setattr(module, "run_trial", counting)
    again = search(dense_ckpt, data=mini_data, train_args=TRAIN, project=searched.run_dir.parent, name="exp",
                   resume=True, **options(table, schedules=("progressive", "oneshot")))
    assert ran == [1]
    assert again.report.trials[0].to_dict() == first and again.report.trials[1].status == "finished"
    rows = (again.run_dir / "trials" / "trial001" / "results.csv").read_text().strip().splitlines()
    assert len(rows) == 1 + 2  # the interrupted run's folder was removed first: its epochs are not appended to
    with pytest.raises(ConfigError, match="other settings"):
        search(dense_ckpt, data=mini_data, project=searched.run_dir.parent, name="exp", resume=True,
               **options(table, epochs=3))


def test_a_table_of_another_size_or_a_missing_one_is_refused(dense_ckpt, mini_data, table, tmp_path):
    from yoloprune import search

    with pytest.raises(ConfigError, match="measured at imgsz=64, the search runs at imgsz=96"):
        search(dense_ckpt, data=mini_data, train_args=TRAIN, project=tmp_path, **options(table, imgsz=96))
    with pytest.raises(ConfigError, match="no such file"):
        search(dense_ckpt, data=mini_data, project=tmp_path, **options(str(tmp_path / "typo.json")))
    with pytest.raises(ConfigError, match="train_args epochs: the search sets them"):
        search(dense_ckpt, data=mini_data, project=tmp_path, train_args={"epochs": 3}, **options(table))


def test_an_unreachable_range_gets_one_clear_error(dense_ckpt, mini_data, tmp_path):
    """A table by which the model cannot get below 0.63 of its latency: a search of 0.3-0.5 is refused before any
    trial runs."""
    from models import synthetic_latency_table

    from yoloprune import search
    from yoloprune.core.prune import group_widths
    from yoloprune.integrations.ultralytics.model_io import load_model
    from yoloprune.io import write_json_atomic

    dense = group_widths(load_model(dense_ckpt)[0])
    slow = at_64(synthetic_latency_table({name: (w, 0.005) for name, w in dense.items()}, dense_ms=60.0))
    path = str(write_json_atomic(slow.to_dict(), tmp_path / "slow.json"))
    with pytest.raises(ConfigError, match="cannot get faster than 0.63"):
        search(dense_ckpt, data=mini_data, train_args=TRAIN, project=tmp_path, **options(path, amounts=(0.3, 0.5)))
    assert not list(tmp_path.glob("exp/trials/*"))


def test_ray_local_mode_runs_two_real_trials(dense_ckpt, mini_data, table, tmp_path, ray_local):
    from yoloprune import search

    result = search(dense_ckpt, data=mini_data, train_args=TRAIN, project=tmp_path, name="ray",
                    **options(table, use_ray=True, max_concurrent=2, schedules=("progressive",)))
    trials = result.report.trials
    assert len(trials) == 2 and all(t.status == "finished" and len(t.maps) == 2 for t in trials)
    assert all(t.latency is not None for t in trials)  # timed by the driver, here
    assert "Configuration for experiment" not in (result.run_dir / "trials.md").read_text()
    assert (result.run_dir / "search.log").exists()
