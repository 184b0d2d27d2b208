"""Successive halving on the validation mAP, for a search with two objectives (latency, mAP50-95) and a budget.

At each rung (``SearchConfig.rungs``: grace, grace * eta, ...) a running trial is judged against every trial
judged there before it, as asynchronous successive halving does (ASHA, Li et al. 2020), with the ranking of its
multi-objective form (MO-ASHA, Schmucker et al. 2021): trials are sorted into Pareto fronts by (measured latency,
mAP50-95 at that epoch); a trial on the first front goes on, any other while it is in the best ``1/eta`` of them
by front and mAP. A fast trial is not stopped for being less accurate than slower ones, only when a trial at
least as fast is also more accurate.

A second rule knows the budget: a trial stops when, to end within ``max_drop`` of the dense model, it would
need to gain more than twice the largest recovery that any finished trial made from that epoch on.

The same object decides for the trials run here and on Ray (:mod:`.runners`), from the results in the order
they arrive.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

HOPELESS = 2.0  # a trial stops when it needs more than this times the largest recovery seen from its epoch on


@dataclass
class Halving:
    rungs: tuple
    eta: int
    floor: float  # the lowest mAP50-95 within the budget: dense - max_drop
    judged: dict = field(default_factory=dict)  # rung -> {trial index: (latency, mAP)}
    finished: dict = field(default_factory=dict)  # trial index -> its mAPs per epoch

    def verdict(self, index: int, latency: float, epoch: int, value: float) -> str:
        """Why trial ``index`` (its measured ``latency``) stops after ``epoch`` with mAP ``value``: ``budget`` (it
        cannot end within it), ``front`` (not in the best ``1/eta`` judged here), or "" (it goes on)."""
        if epoch not in self.rungs:
            return ""
        seen = self.judged.setdefault(epoch, {})
        seen[index] = (latency, value)
        if self._hopeless(epoch, value):
            return "budget"
        if len(seen) < self.eta:
            return ""
        fronts = _front_of(seen)
        if fronts[index] == 0:  # on the front at this epoch: nothing at least as fast is more accurate
            return ""
        order = sorted(seen, key=lambda i: (fronts[i], -seen[i][1], seen[i][0], i))
        return "" if order.index(index) < math.ceil(len(seen) / self.eta) else "front"

    def done(self, index: int, maps) -> None:
        """Trial ``index`` ran every epoch: its recovery after each rung bounds what the next trials may gain."""
        self.finished[index] = tuple(maps)

    def _hopeless(self, epoch: int, value: float) -> bool:
        gains = [max(m for m in maps if m is not None) - maps[epoch - 1] for maps in self.finished.values()
                 if len(maps) >= epoch and maps[epoch - 1] is not None]
        if not gains:
            return False
        return self.floor - value > HOPELESS * max(max(gains), 0.0) + 1e-9

    def replay(self, trials) -> None:
        """Rebuild the record from ``trials`` (a resumed search), in their order."""
        for t in trials:
            for epoch, value in enumerate(t.maps, 1):
                if epoch in self.rungs and t.planned is not None and value is not None:
                    self.judged.setdefault(epoch, {})[t.index] = (t.planned, value)
            if t.status == "finished":
                self.done(t.index, t.maps)


def _front_of(points: dict) -> dict:
    """``{index: front number}`` (0 = the Pareto front) of ``{index: (latency, mAP)}``: lower latency, higher mAP."""
    rank, left, level = {}, dict(points), 0
    while left:
        front = [i for i, (lat, m) in left.items()
                 if not any(ol <= lat and om >= m and (ol, om) != (lat, m) for j, (ol, om) in left.items() if j != i)]
        for i in front:
            rank[i] = level
            del left[i]
        level += 1
    return rank
