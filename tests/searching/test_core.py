"""The search's decisions on synthetic trials: config errors, the Pareto front and the recommendation, successive
halving, the sampler. Nothing trains or times here."""

import pickle

import pytest

from yoloprune.errors import ConfigError
from yoloprune.searching.config import SearchConfig
from yoloprune.searching.front import pareto, recommend
from yoloprune.searching.halving import Halving
from yoloprune.searching.sampler import Sampler
from yoloprune.searching.trial import Trial, TrialJob, TrialSpec, run_trial


def trial(index, latency, maps, status="finished", amount=None, recipe=None, stopped_by=""):
    spec = TrialSpec(amount if amount is not None else latency)
    if recipe:
        spec = spec.with_recipe(recipe)
    return Trial(index, spec, budget=latency, closed_loop=latency, maps=tuple(maps), status=status, latency=latency,
                 stopped_by=stopped_by)


@pytest.mark.parametrize("options, message", [
    ({"max_drop": 0}, "above 0"),
    ({"max_drop": -1.0}, "above 0"),
    ({"max_drop": 0.01}, "max_drop counts points"),
    ({"max_drop": "1"}, "must be of type float"),
    ({"amounts": (0.9, 0.3)}, "0 < low < high < 1"),
    ({"amounts": (0.5,)}, "0 < low < high < 1"),
    ({"criteria": ("l3",)}, "unknown 'l3'"),
    ({"allocations": ("knapsack",)}, "allocations=global,local"),
    ({"ray_address": "ray://head:10001"}, "add use_ray=True"),
    ({"format": "openvino:fp32,onnx"}, "one runtime and precision"),
    ({"hardware": "toaster"}, "toaster"),
    ({"eta": 1}, "eta=1 must be >= 2"),
])
def test_bad_settings_get_one_clear_error(options, message):
    with pytest.raises(ConfigError, match=message):
        SearchConfig(**options)


def test_command_line_lists_become_tuples_and_rungs_follow_eta():
    c = SearchConfig(amounts="0.4,0.8", schedules="progressive", epochs=20, grace_epochs=2, eta=3)
    assert c.amounts == (0.4, 0.8) and c.schedules == ("progressive",)
    assert c.rungs == (2, 6, 18) and SearchConfig(epochs=2).rungs == ()
    assert SearchConfig.from_dict(c.to_dict()) == c


def test_front_and_recommendation():
    trials = [trial(0, 0.9, [0.40, 0.44]), trial(1, 0.6, [0.40, 0.436]), trial(2, 0.5, [0.35, 0.42]),
              trial(3, 0.65, [0.41, 0.43]),  # dominated by trial 1 (faster and more accurate)
              trial(4, 0.3, [0.2], status="stopped"), trial(5, 0.4, [0.3, 0.401])]
    assert [t.index for t in pareto(trials)] == [5, 2, 1, 0]
    assert recommend(trials, dense_map=0.445, max_drop=0.01).index == 1  # 0.436 is within 1 point, 0.42 is not
    assert recommend(trials, dense_map=0.445, max_drop=0.03).index == 2
    assert recommend(trials, dense_map=0.50, max_drop=0.01) is None  # none within the budget


def test_halving_stops_hopeless_and_dominated_trials_only():
    h = Halving(rungs=(2,), eta=3, floor=0.43)
    assert h.verdict(0, 0.9, 1, 0.1) == ""  # not a rung
    assert h.verdict(0, 0.9, 2, 0.42) == ""  # nothing finished yet: no bound
    h.done(0, (0.40, 0.42, 0.44))  # recovered 0.02 after epoch 2
    assert h.verdict(1, 0.5, 2, 0.38) == "budget"  # needs 0.05 > 2 x 0.02
    assert h.verdict(2, 0.6, 2, 0.40) == ""  # needs 0.03 <= 0.04; on the front (faster than 0, better than 1)
    assert h.verdict(3, 0.95, 2, 0.41) == "front"  # slower than trial 0 and less accurate, not in the best third
    assert h.verdict(4, 0.3, 2, 0.425) == ""  # the fastest and within reach: on the front


def test_sampler_brackets_then_bisects_and_adopts_a_better_recipe():
    config = SearchConfig(trials=12, amounts=(0.3, 0.9), max_drop=1.0)
    s = Sampler(config, dense_map=0.45)
    trials = []
    assert s.next(trials).amount == 0.9  # the least pruned first
    trials = [trial(0, 0.9, [0.45])]
    assert s.next(trials).amount == 0.6
    trials += [trial(1, 0.6, [0.445]), trial(2, 0.3, [0.30], status="stopped", stopped_by="budget")]
    nxt = s.next(trials)  # between the fastest within budget (0.6) and the miss below it (0.3)
    assert nxt.amount == 0.45 and nxt.recipe == s.base
    trials.append(trial(3, 0.45, [0.43]))  # missed by 2 points
    variant = s.next(trials)  # the first variant of the recipe, at the fastest miss
    assert variant.amount == 0.45 and variant.recipe == ("progressive", "taylor_raw", "global", "native")
    trials.append(trial(4, 0.45, [0.442], recipe=variant.recipe))  # distillation made 0.45 fit the budget
    assert s.recipe(trials) == variant.recipe
    nxt = s.next(trials)
    assert nxt.recipe == variant.recipe and nxt.amount == pytest.approx(0.375)  # bisect below with the new recipe


def test_sampler_ends_when_nothing_is_left():
    config = SearchConfig(trials=50, amounts=(0.5, 0.52), schedules=("progressive",), criteria=("taylor_raw",),
                          allocations=("global",), distill=("none",))
    s = Sampler(config, dense_map=0.45)
    trials = []
    while (spec := s.next(trials)) is not None:
        trials.append(trial(len(trials), spec.amount, [0.44]))
        assert len(trials) < 10
    assert sorted(t.spec.amount for t in trials) == [0.5, 0.51, 0.52]  # the bracket; nothing else between


def test_a_trial_job_and_the_trial_function_pickle(tmp_path):
    job = TrialJob(3, TrialSpec(0.5, "oneshot", "l2", "local", "native"), "best.pt", "data.yaml", str(tmp_path), 5, 320,
                   "table.json", 0.47, train_args={"batch": 8})
    assert pickle.loads(pickle.dumps(job)) == job
    assert TrialJob.from_dict(job.to_dict()) == job
    assert pickle.loads(pickle.dumps(run_trial)) is run_trial  # by reference: a Ray worker imports it
    assert job.run_dir == tmp_path / "trial003"


def test_the_reporter_skips_epochs_before_the_last_prune_step_and_reports_best_pt_as_final():
    """A progressive trial keeps ``best_fitness`` at infinity until its last prune step: those epochs are not the
    pruned model's and are not reported; after training stops, Ultralytics' final evaluation (of best.pt, at
    epoch + 1) is reported as final, not as another epoch."""
    import math
    from types import SimpleNamespace

    from yoloprune.searching.trial import MAP_KEY, _reporter

    calls = []
    on_fit_epoch_end = _reporter(lambda epoch, value, final: calls.append((epoch, value, final)) or epoch < 3)
    trainer = SimpleNamespace(epoch=0, metrics={MAP_KEY: 0.5}, best_fitness=math.inf, stop=False)
    on_fit_epoch_end(trainer)  # still pruning
    trainer.epoch, trainer.best_fitness, trainer.metrics = 1, None, {MAP_KEY: 0.30}
    on_fit_epoch_end(trainer)
    trainer.epoch, trainer.metrics = 2, {MAP_KEY: 0.32}
    on_fit_epoch_end(trainer)  # report says stop after epoch 3
    assert trainer.stop is True
    trainer.epoch, trainer.metrics = 3, {MAP_KEY: 0.325}  # the final evaluation, as Ultralytics numbers it
    on_fit_epoch_end(trainer)
    assert calls == [(2, 0.30, False), (3, 0.32, False), (3, 0.325, True)]
