"""Which trial a search runs next: deterministic, from the trials so far (the same here and on Ray).

1. A bracket: the starting recipe (the first value of each setting) at evenly spaced amounts, the least pruned
   first, so that later trials are judged against finished ones.
2. Then, in turn:
   - bisection on the amount with the current recipe, between the fastest trial within the budget and the
     nearest faster one that was not (or the range's end), where the recommendation will be;
   - a variant of the current recipe (one setting changed) at the edge: the fastest amount that missed the budget
     (or, with none yet, the fastest that met it). A variant that meets the budget where the recipe did not, or
     ends more accurate at the same amount, becomes the current recipe.
The search ends early when the interval is narrower than ``RESOLUTION`` and every variant has been tried.
"""

from __future__ import annotations

from .config import SearchConfig
from .front import within
from .trial import Trial, TrialSpec

RESOLUTION = 0.02  # amounts closer than this count as the same
BRACKET = 3


class Sampler:
    def __init__(self, config: SearchConfig, dense_map: float):
        self.config, self.dense_map = config, dense_map
        self.base = (config.schedules[0], config.criteria[0], config.allocations[0], config.distill[0])

    def next(self, trials: list[Trial]) -> TrialSpec | None:
        """The next trial, or None when nothing is left worth trying."""
        lo, hi = self.config.amounts
        n = min(BRACKET, self.config.trials)
        bracket = [hi] if n == 1 else [round(hi - i * (hi - lo) / (n - 1), 3) for i in range(n)]
        for amount in bracket:
            spec = TrialSpec(amount, *self.base)
            if not _tried(spec, trials):
                return spec
        recipe = self.recipe(trials)
        steps = [self._bisect(trials, recipe), self._variant(trials, recipe)]
        if sum(1 for t in trials if t.spec.recipe != self.base) * 2 < len(trials) - len(bracket):
            steps.reverse()  # alternate: a variant after each bisection
        for spec in steps:
            if spec is not None:
                return spec
        return None

    def recipe(self, trials: list[Trial]) -> tuple:
        """The current recipe: the starting one, replaced by each variant that beat it at the same amount."""
        current = self.base
        for t in trials:
            if t.spec.recipe == current or t.status == "running":
                continue
            rivals = [o for o in trials if o.spec.recipe == current and abs(o.spec.amount - t.spec.amount) < RESOLUTION]
            if rivals and all(self._beats(t, o) for o in rivals) and _one_change(t.spec.recipe, current):
                current = t.spec.recipe
        return current

    def _beats(self, t: Trial, o: Trial) -> bool:
        if not self._ok(t):
            return False
        return not self._ok(o) or (o.map is not None and t.map > o.map)

    def _ok(self, t: Trial) -> bool:
        return t.status == "finished" and within(t, self.dense_map, self.config.target_drop)

    def _missed(self, t: Trial) -> bool:
        return t.status in ("failed", "stopped") or (t.status == "finished" and not self._ok(t))

    def _edges(self, trials: list[Trial]) -> tuple[float | None, float | None]:
        """(the fastest amount within the budget, the largest amount below it that missed)."""
        ok = [t.spec.amount for t in trials if self._ok(t)]
        fastest = min(ok) if ok else None
        missed = [t.spec.amount for t in trials if self._missed(t) and (fastest is None or t.spec.amount < fastest)]
        return fastest, (max(missed) if missed else None)

    def _bisect(self, trials: list[Trial], recipe: tuple) -> TrialSpec | None:
        lo, hi = self.config.amounts
        fastest, missed = self._edges(trials)
        if fastest is None:  # nothing within the budget yet: between the slowest miss and the range's top
            tried = [t.spec.amount for t in trials]
            below, above = (max(tried) if tried else lo), hi
            if above - below < RESOLUTION:
                return None
        else:
            below, above = (missed if missed is not None else lo), fastest
            if above - below < RESOLUTION:
                return None
        spec = TrialSpec(round((below + above) / 2, 3), *recipe)
        return None if _tried(spec, trials) else spec

    def _variant(self, trials: list[Trial], recipe: tuple) -> TrialSpec | None:
        fastest, missed = self._edges(trials)
        amount = missed if missed is not None else fastest
        if amount is None:
            tried = [t.spec.amount for t in trials]
            amount = max(tried) if tried else self.config.amounts[1]
        for variant in self.variants(recipe):
            spec = TrialSpec(amount, *variant)
            if not _tried(spec, trials):
                return spec
        return None

    def variants(self, recipe: tuple) -> list[tuple]:
        """The recipes one setting away from ``recipe``, in the order tried: distillation, schedule, allocation,
        criterion (closest contenders first on real photos)."""
        choices = {3: self.config.distill, 0: self.config.schedules, 2: self.config.allocations,
                   1: self.config.criteria}
        out = []
        for position, values in choices.items():
            for value in values:
                if value != recipe[position]:
                    out.append(tuple(value if i == position else r for i, r in enumerate(recipe)))
        return out


def _tried(spec: TrialSpec, trials: list[Trial]) -> bool:
    return any(t.spec.recipe == spec.recipe and abs(t.spec.amount - spec.amount) < RESOLUTION / 2 for t in trials)


def _one_change(a: tuple, b: tuple) -> bool:
    return sum(x != y for x, y in zip(a, b)) == 1
