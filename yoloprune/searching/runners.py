"""What runs the trials: one after another here (:func:`run_sequential`), or Ray Tune (:func:`run_ray`) on a
local instance or a cluster. Both hand every decision to the same :class:`Driver` in this process: which trial
next and its budget (the sampler and the closed loop, timed here), whether a running trial goes on (halving),
and its final latency (timed here, one model at a time), so the two give the same search for the same results."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from ..errors import ConfigError, UnreachableTargetError, YoloPruneError
from .config import SearchConfig
from .halving import Halving
from .record import SearchRecord
from .sampler import Sampler
from .trial import Trial, TrialJob, TrialSpec, run_trial


@dataclass
class Driver:
    """The search's decisions, in the order results arrive.

    ``plan(spec) -> (budget, measured)``: the amount to ask the table for and, where timed here, the dense model
    pruned so, measured; ``time(checkpoint) -> {"ratio", "pruned_ms", "dense_ms"} | None``: a finished trial
    timed; ``job(index, spec, budget) -> TrialJob``; ``progress(epochs)`` advances the one progress bar."""

    record: SearchRecord
    sampler: Sampler
    halving: Halving
    plan_fn: Callable
    time_fn: Callable
    job_fn: Callable
    progress: Callable = lambda epochs, trial=None: None

    def next_job(self) -> TrialJob | None:
        """The next trial planned and recorded as running, or None when the search is done."""
        trials = self.record.trials
        if len(trials) >= self.record.config.trials:
            return None
        spec = self.sampler.next(trials)
        if spec is None:
            return None
        index = max((t.index for t in trials), default=-1) + 1
        try:
            budget, measured = self.plan_fn(spec)
        except UnreachableTargetError as e:  # an amount the floors cannot reach: the search goes on without it
            lo, hi = self.record.config.amounts
            if spec.amount >= hi:  # the least pruned amount: none of the range can be reached
                raise ConfigError(f"amounts={lo:g},{hi:g}: even {hi:g} of the dense latency is out of reach ({e}); "
                                  "search higher amounts") from None
            self.record.put(Trial(index, spec, status="failed", error=str(e)))
            self.progress(self.record.config.epochs)
            return self.next_job()
        self.record.put(Trial(index, spec, budget=budget, closed_loop=measured))
        return self.job_fn(index, spec, budget)

    def judge(self, index: int, epoch: int, value: float) -> bool:
        """Record trial ``index``'s validation mAP after ``epoch``; whether it goes on."""
        t = self.record.trial(index)
        maps = list(t.maps[:epoch - 1]) + [value]
        stopped_by = self.halving.verdict(index, t.planned, epoch, value)
        self.record.put(replace(t, maps=tuple(maps), stopped_by=stopped_by))
        self.progress(1, self.record.trial(index))
        return not stopped_by

    def finish(self, index: int, checkpoint: str | Path | None, error: str = "", wall_s: float | None = None) -> Trial:
        """Trial ``index`` ended: finished (every epoch, its model timed here), stopped by halving (its latency stays
        the one planned), or failed."""
        t = self.record.trial(index)
        epochs = self.record.config.epochs
        status = "failed" if error else ("finished" if len(t.maps) >= epochs and not t.stopped_by else "stopped")
        timing = self.time_fn(checkpoint) if checkpoint and status == "finished" else None  # stopped: as planned
        t = replace(t, status=status, checkpoint=str(checkpoint or ""), error=error, wall_s=wall_s,
                    latency=timing and timing["ratio"], latency_ms=timing and timing["pruned_ms"],
                    dense_ms=timing and timing["dense_ms"])
        if status == "finished":
            self.halving.done(index, t.maps)
        self.record.put(t)
        self.progress(max(epochs - len(t.maps), 0), t)
        return t


def run_sequential(driver: Driver, trial_fn: Callable = run_trial) -> None:
    """The trials one after another in this process."""
    while (job := driver.next_job()) is not None:
        start = time.monotonic()
        try:
            checkpoint = trial_fn(job, lambda epoch, value, i=job.index: driver.judge(i, epoch, value))
        except UnreachableTargetError as e:  # other errors stop the search (it resumes after the fix)
            driver.finish(job.index, None, error=str(e), wall_s=time.monotonic() - start)
            continue
        driver.finish(job.index, checkpoint, wall_s=time.monotonic() - start)


# -- Ray Tune ------------------------------------------------------------------------------------------------------
def ray_modules():
    """Ray Tune, or one clear error naming the extra that installs it."""
    try:
        import ray
        from ray import tune
    except ImportError:
        raise ConfigError('use_ray=True runs the trials with Ray Tune, which is not installed: '
                          'pip install "yoloprune[search]"') from None
    return ray, tune


def _ray_trainable(params: dict, trial_fn: Callable = run_trial) -> None:
    """One trial on a Ray worker: the trial function, each epoch's mAP reported back to the driver's halving."""
    from ray import tune

    job = TrialJob.from_dict(params["job"])

    def report(epoch: int, value: float) -> bool:
        tune.report({"index": job.index, "epoch": epoch, "map": value})
        return True  # the driver's scheduler stops this trial itself

    start = time.monotonic()
    try:
        checkpoint = trial_fn(job, report)
    except YoloPruneError as e:  # the driver records it; the search goes on
        tune.report({"index": job.index, "error": str(e), "wall_s": time.monotonic() - start})
        return
    tune.report({"index": job.index, "checkpoint": str(checkpoint), "wall_s": time.monotonic() - start})


def run_ray(driver: Driver, config: SearchConfig, storage: Path, trial_fn: Callable = run_trial) -> None:
    """The same trials with Ray Tune: on the running Ray instance if there is one, else ``ray.init`` (a local
    instance, or the cluster at ``ray_address``); ``max_concurrent`` trials at once, each with
    ``gpus_per_trial`` GPUs where the cluster has any. Results stream into ``search.json`` as they arrive."""
    ray, tune = ray_modules()
    if not ray.is_initialized():
        ray.init(address=config.ray_address or None, log_to_driver=False)
    gpus = ray.cluster_resources().get("GPU", 0)
    per_trial = {"cpu": 1, "gpu": config.gpus_per_trial if gpus else 0}
    concurrent = config.max_concurrent or (max(int(gpus // max(config.gpus_per_trial, 1e-9)), 1) if gpus else 1)
    planner, halver = _ray_adapters(driver)

    trainable = tune.with_resources(tune.with_parameters(_ray_trainable, trial_fn=trial_fn), per_trial)
    left = config.trials - len(driver.record.trials)
    tuner = tune.Tuner(trainable, tune_config=tune.TuneConfig(search_alg=planner, scheduler=halver,
                                                                num_samples=max(left, 1),
                                                                max_concurrent_trials=concurrent),
                       run_config=tune.RunConfig(name="ray", storage_path=str(Path(storage).resolve()), verbose=0))
    tuner.fit()


def _ray_adapters(driver: Driver):
    """The driver as Ray Tune's searcher (``suggest``: the next trial; a trial's end) and scheduler (each result:
    go on or stop). Ray pickles both into its experiment state: the driver stays out of it (it holds compiled
    models; the search's own record is what resumes)."""
    from ray.tune.schedulers import FIFOScheduler, TrialScheduler
    from ray.tune.search import Searcher

    class Unpickled:
        def __getstate__(self):
            return {k: v for k, v in self.__dict__.items() if k != "driver"}

    class Planner(Unpickled, Searcher):
        def __init__(self, driver):  # an argument, not a closure: Ray pickles the class too
            super().__init__()
            self.driver, self.ends = driver, {}  # Ray's trial id -> our index

        def suggest(self, trial_id):
            job = self.driver.next_job()
            if job is None:
                return Searcher.FINISHED
            self.ends[trial_id] = job.index
            return {"job": job.to_dict()}

        def on_trial_complete(self, trial_id, result=None, error=False):
            index = self.ends.pop(trial_id, None)
            if index is None:
                return
            result = result or {}
            checkpoint = result.get("checkpoint") or _best(self.driver, index)
            message = result.get("error") or ("the Ray trial failed (its log is in the Ray run folder)" if error else "")
            self.driver.finish(index, None if message else checkpoint, error=message, wall_s=result.get("wall_s"))

    class Halver(Unpickled, FIFOScheduler):
        def __init__(self, driver):
            super().__init__()
            self.driver = driver

        def set_search_properties(self, metric, mode, **spec):
            return True

        def on_trial_result(self, tune_controller, trial, result):
            if "map" not in result:
                return TrialScheduler.CONTINUE
            keep = self.driver.judge(int(result["index"]), int(result["epoch"]), float(result["map"]))
            return TrialScheduler.CONTINUE if keep else TrialScheduler.STOP

    return Planner(driver), Halver(driver)


def _best(driver: Driver, index: int) -> str | None:
    """A stopped Ray trial's best checkpoint (the trial was ended before it could say)."""
    for path in Path(driver.record.path.parent, "trials").glob(f"trial{index:03d}/weights/best.pt"):
        return str(path)
    return None
