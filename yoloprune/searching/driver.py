"""The search's decisions, in one place whatever runs the trials (:class:`Driver`)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from ..errors import ConfigError, UnreachableTargetError
from .halving import Halving
from .record import SearchRecord
from .sampler import Sampler
from .trial import Trial, TrialJob


@dataclass
class Driver:
    """Which trial runs next and its budget, whether a running trial goes on, and a finished trial's latency, in the
    order results arrive; every change written to ``search.json``.

    ``plan_fn(spec) -> (budget, measured)``: the amount to ask the table for and, where timed here, the dense model
    pruned so, measured; ``time_fn(checkpoint) -> {"ratio", "pruned_ms", "dense_ms"} | None``: a finished trial
    timed; ``job_fn(index, spec, budget) -> TrialJob``; ``progress(epochs)`` advances the one progress bar."""

    record: SearchRecord
    sampler: Sampler
    halving: Halving
    plan_fn: Callable
    time_fn: Callable
    job_fn: Callable
    progress: Callable = lambda epochs: None

    def next_job(self) -> TrialJob | None:
        """The next trial planned and recorded as running, or None when nothing is left to try now."""
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
            if not trials:  # the first trial, the least pruned amount: none of the range can be reached
                lo, hi = self.record.config.amounts
                raise ConfigError(f"amounts={lo:g},{hi:g}: even {spec.amount:g} of the dense latency is out of reach "
                                  f"({e}); search higher amounts") from None
            self.record.put(Trial(index, spec, status="failed", error=str(e)))
            self.progress(self.record.config.epochs)
            return self.next_job()
        self.record.put(Trial(index, spec, budget=budget, closed_loop=measured))
        return self.job_fn(index, spec, budget)

    def running(self) -> bool:
        return any(t.status == "running" for t in self.record.trials)

    def judge(self, index: int, epoch: int, value: float, final: bool = False) -> bool:
        """Record trial ``index``'s validation mAP after ``epoch`` (``final``: its best.pt's, when training ended);
        whether it goes on."""
        t = self.record.trial(index)
        if final:
            self.record.put(replace(t, best=value))
            return True
        maps = list(t.maps[:epoch - 1]) + [None] * (epoch - 1 - len(t.maps)) + [value]
        stopped_by = self.halving.verdict(index, t.planned, epoch, value)
        self.record.put(replace(t, maps=tuple(maps), stopped_by=stopped_by))
        self.progress(epoch - len(t.maps))
        return not stopped_by

    def finish(self, index: int, checkpoint: str | Path | None, error: str = "", wall_s: float | None = None) -> Trial:
        """Trial ``index`` ended: finished (every epoch, its model timed here), stopped by halving (its latency stays
        the one planned), or failed."""
        t = self.record.trial(index)
        epochs = self.record.config.epochs
        status = "failed" if error else ("finished" if len(t.maps) >= epochs and not t.stopped_by else "stopped")
        timing = self.time_fn(checkpoint) if checkpoint and status == "finished" else None
        t = replace(t, status=status, checkpoint=str(checkpoint or ""), error=error, wall_s=wall_s,
                    latency=timing and timing["ratio"], latency_ms=timing and timing["pruned_ms"],
                    dense_ms=timing and timing["dense_ms"])
        if status == "finished":
            self.halving.done(index, t.maps)
        self.record.put(t)
        self.progress(max(epochs - len(t.maps), 0))
        return t
