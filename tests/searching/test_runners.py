"""The runners: the same decisions whether the trials run here or on Ray (a deterministic fake trial), and what a
user without Ray is told."""

import sys
from pathlib import Path

import pytest

import fakes
from yoloprune.errors import ConfigError
from yoloprune.searching.config import SearchConfig
from yoloprune.searching.front import pareto, recommend
from yoloprune.searching.halving import Halving
from yoloprune.searching.record import SearchRecord
from yoloprune.searching.driver import Driver
from yoloprune.searching.runners import ray_modules, run_ray, run_sequential
from yoloprune.searching.sampler import Sampler
from yoloprune.searching.trial import TrialJob


def driver(tmp_path, config):
    record = SearchRecord(tmp_path / "search.json", config, "best.pt", "data.yaml", dense_map=fakes.DENSE)

    def job(index, spec, budget):
        return TrialJob(index, spec, "best.pt", "data.yaml", str(tmp_path / "trials"), config.epochs, 64, "t.json",
                        budget)

    return Driver(record, Sampler(config, fakes.DENSE), Halving(config.rungs, config.eta, fakes.DENSE - config.target_drop),
                  fakes.plan, fakes.timer, job)


def outcome(record):
    return [(t.index, t.spec, t.maps, t.status, t.stopped_by, t.budget) for t in record.trials]


CONFIG = SearchConfig(trials=8, epochs=6, max_drop=1.0, amounts=(0.3, 0.9), grace_epochs=2, eta=3)


def test_sequential_search_stops_hopeless_trials_and_recommends(tmp_path):
    d = driver(tmp_path, CONFIG)
    run_sequential(d, fakes.fake_trial)
    trials = d.record.trials
    assert len(trials) == 8 and SearchRecord.load(tmp_path).trials == trials  # every result was written
    assert any(t.status == "stopped" and t.stopped_by == "budget" for t in trials)  # e.g. the 0.3 bracket trial
    assert all(len(t.maps) == 6 for t in trials if t.status == "finished")
    best = recommend(trials, fakes.DENSE, CONFIG.target_drop)
    assert best is not None and fakes.DENSE - best.map <= 0.01
    # no finished trial within the budget is faster than the recommendation
    assert all(t.timed >= best.timed for t in trials if t.status == "finished" and fakes.DENSE - t.map <= 0.01)


def test_ray_gives_the_same_search_as_sequential(tmp_path, ray_local):
    config = SearchConfig(trials=5, epochs=4, amounts=(0.3, 0.9))  # two stopped, a variant adopted
    seq, ray_run = driver(tmp_path / "seq", config), driver(tmp_path / "ray", config)
    run_sequential(seq, fakes.fake_trial)
    run_ray(ray_run, SearchConfig(**{**config.to_dict(), "use_ray": True, "max_concurrent": 1}), tmp_path / "ray",
            fakes.fake_trial)
    assert outcome(ray_run.record) == outcome(seq.record)
    assert sum(t.status == "stopped" for t in seq.record.trials) == 2
    assert [t.index for t in pareto(ray_run.record.trials)] == [t.index for t in pareto(seq.record.trials)]
    assert all(t.checkpoint.endswith("best.pt") for t in ray_run.record.trials if t.status == "finished")
    finished = [t for t in ray_run.record.trials if t.status == "finished"]
    # one trial at a time on 2 CPUs: it gets both (Ray gives a trial as many threads as CPUs it asked for)
    assert finished and all(Path(t.checkpoint).read_text().endswith("threads=2") for t in finished)


def test_ray_with_more_slots_than_candidates_waits_instead_of_ending(tmp_path, ray_local):
    """Three trials at once: while the running ones leave the sampler nothing new, Ray waits for their results
    rather than ending the search short."""
    config = SearchConfig(trials=6, epochs=3, amounts=(0.3, 0.9))
    seq, ray_run = driver(tmp_path / "seq", config), driver(tmp_path / "ray", config)
    run_sequential(seq, fakes.fake_trial)
    run_ray(ray_run, SearchConfig(**{**config.to_dict(), "use_ray": True, "max_concurrent": 3}), tmp_path / "ray",
            fakes.fake_trial)
    assert len(seq.record.trials) == len(ray_run.record.trials) == 6
    assert all(t.status != "running" for t in ray_run.record.trials)


def test_without_ray_use_ray_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray fails as if it were not installed
    with pytest.raises(ConfigError, match=r'pip install "yoloprune\[search\]"'):
        ray_modules()
