"""What runs the trials: one after another here (:func:`run_sequential`), or Ray Tune (:func:`run_ray`) on a
local instance or a cluster. Both hand every decision to the same :class:`~.driver.Driver` in this process: which
trial next and its budget (the sampler and the closed loop, timed here), whether a running trial goes on
(halving), and its final latency (timed here, one model at a time), so the two give the same search for the same
results. An unreachable amount fails its trial and the search goes on; any other error stops the search (it
resumes after the fix)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable

import torch

from .. import offline
from ..errors import ConfigError, UnreachableTargetError, YoloPruneError
from .config import SearchConfig
from .driver import Driver
from .trial import TrialJob, run_trial


def run_sequential(driver: Driver, trial_fn: Callable = run_trial) -> None:
    """The trials one after another in this process."""
    while (job := driver.next_job()) is not None:
        start = time.monotonic()
        try:
            checkpoint = trial_fn(job, lambda epoch, value, final=False, i=job.index: driver.judge(i, epoch, value, final))
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
    import ray
    from ray import tune

    # the CPUs Ray gave this trial, as the threads it trains with. Ray's worker started with OMP_NUM_THREADS=1,
    # which CPU training reads as a user's choice (offline.USER_THREADS), and a pooled worker keeps the torch threads
    # of the task that first imported torch in it: this worker process is the trial's, so both are set here
    threads = max(int(ray.get_runtime_context().get_assigned_resources().get("CPU", 1)), 1)
    os.environ["OMP_NUM_THREADS"] = str(threads)
    offline.USER_THREADS = str(threads)
    torch.set_num_threads(threads)
    job = TrialJob.from_dict(params["job"])

    def report(epoch: int, value: float, final: bool = False) -> bool:
        tune.report({"index": job.index, "epoch": epoch, "map": value, "final": final})
        return True  # the driver's scheduler stops this trial itself

    start = time.monotonic()
    try:
        checkpoint = trial_fn(job, report)
    except YoloPruneError as e:  # the driver records it: an unreachable amount fails the trial, any other the search
        tune.report({"index": job.index, "error": str(e), "fatal": not isinstance(e, UnreachableTargetError),
                     "wall_s": time.monotonic() - start})
        return
    tune.report({"index": job.index, "checkpoint": str(checkpoint), "wall_s": time.monotonic() - start})


def run_ray(driver: Driver, config: SearchConfig, storage: Path, trial_fn: Callable = run_trial) -> None:
    """The same trials with Ray Tune: on the running Ray instance if there is one, else ``ray.init`` (a local
    instance, or the cluster at ``ray_address``); ``max_concurrent`` trials at once, each with
    ``gpus_per_trial`` GPUs where the cluster has any. Results stream into ``search.json`` as they arrive."""
    ray, tune = ray_modules()
    started = not ray.is_initialized()
    if started:
        ray.init(address=config.ray_address or None, log_to_driver=False)
    try:
        _tune(driver, config, storage, trial_fn, ray, tune)
    finally:
        if started:  # the user's process as it was: no Ray left running after the search
            ray.shutdown()


def _tune(driver: Driver, config: SearchConfig, storage: Path, trial_fn: Callable, ray, tune) -> None:
    gpus = ray.cluster_resources().get("GPU", 0)
    if gpus and config.gpus_per_trial > gpus:
        raise ConfigError(f"gpus_per_trial={config.gpus_per_trial:g} but the Ray cluster has {gpus:g} GPUs: "
                          f"gpus_per_trial={min(1, gpus):g}")
    if config.gpus_per_trial > 1 and config.gpus_per_trial != int(config.gpus_per_trial):
        raise ConfigError(f"gpus_per_trial={config.gpus_per_trial:g}: Ray gives a trial a fraction of one GPU or whole "
                          "GPUs, e.g. gpus_per_trial=0.5 or 2")
    concurrent = config.max_concurrent or (max(int(gpus // max(config.gpus_per_trial, 1e-9)), 1) if gpus else 1)
    # each trial its share of the CPUs: Ray gives a task as many threads (OMP_NUM_THREADS) as CPUs it asked for
    cpus = max(int(ray.cluster_resources().get("CPU", 1) // concurrent), 1)
    per_trial = {"cpu": cpus, "gpu": config.gpus_per_trial if gpus else 0}
    planner, halver = _ray_adapters(driver)

    trainable = tune.with_resources(tune.with_parameters(_ray_trainable, trial_fn=trial_fn), per_trial)
    left = config.trials - len(driver.record.trials)
    tuner = tune.Tuner(trainable, tune_config=tune.TuneConfig(search_alg=planner, scheduler=halver,
                                                                num_samples=max(left, 1),
                                                                max_concurrent_trials=concurrent),
                       run_config=tune.RunConfig(name="ray", storage_path=str(Path(storage).resolve()), verbose=0))
    tuner.fit()
    if planner.fatal:
        raise YoloPruneError(planner.fatal)


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
            self.driver, self.ends, self.fatal = driver, {}, ""  # Ray's trial id -> our index

        def suggest(self, trial_id):
            job = None if self.fatal else self.driver.next_job()
            if job is None:  # nothing to try now: wait for the running trials' results, unless none is running
                return None if self.ends and not self.fatal else Searcher.FINISHED
            self.ends[trial_id] = job.index
            return {"job": job.to_dict()}

        def on_trial_complete(self, trial_id, result=None, error=False):
            index = self.ends.pop(trial_id, None)
            if index is None:
                return
            result = result or {}
            checkpoint = result.get("checkpoint") or _best(self.driver, index)
            message = result.get("error") or ("the Ray trial failed (its log is in the Ray run folder)" if error else "")
            if result.get("fatal"):
                self.fatal = message
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
            keep = self.driver.judge(int(result["index"]), int(result["epoch"]), float(result["map"]),
                                     bool(result.get("final")))
            return TrialScheduler.CONTINUE if keep else TrialScheduler.STOP

    return Planner(driver), Halver(driver)


def _best(driver: Driver, index: int) -> str | None:
    """A stopped Ray trial's best checkpoint (the trial was ended before it could say)."""
    path = driver.record.path.parent / "trials" / f"trial{index:03d}" / "weights" / "best.pt"  # TrialJob.run_dir's
    return str(path) if path.exists() else None
