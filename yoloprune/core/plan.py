"""The width plan: how many channels every prunable group has now and keeps in the end.

One type for the one meaning of "plan". One-shot pruning plans and prunes at once; progressive
pruning plans once, on the dense model at its first step, and walks every group from its dense width
to its final one (:meth:`WidthPlan.at`). Groups are keyed by the name of their root convolution.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Hashable, Iterable, TypeVar

from ..errors import ConfigError
from .schedule import width_at

G = TypeVar("G", bound=Hashable)


def partners(pairs: Iterable[tuple[G, G]]) -> dict[G, G]:
    """Each half of a split block mapped to its twin, both ways: ``pairs`` are the groups that must keep equal
    widths (stock C2f / C3k2 / C2PSA split their output in two), by name or by index."""
    pairs = list(pairs)
    return {a: b for a, b in pairs} | {b: a for a, b in pairs}


@dataclass(frozen=True)
class WidthPlan:
    dense: dict[str, int]  # channels per group when the plan was made
    final: dict[str, int]  # channels per group at the end

    def __post_init__(self):
        if set(self.dense) != set(self.final):
            raise ConfigError(f"a width plan needs the same groups in dense and final: {sorted(set(self.dense) ^ set(self.final))[:4]}")

    def at(self, step: int, steps: int, schedule: Callable[[float], float], round_to: int = 1) -> dict[str, int]:
        """The widths after ``step`` of ``steps`` (``schedule(step / steps)`` of the way to ``final``)."""
        return {name: width_at(step, steps, dense, self.final[name], schedule, round_to)
                for name, dense in self.dense.items()}

    def to_dict(self) -> dict:
        return {"dense": dict(self.dense), "final": dict(self.final)}

    @classmethod
    def from_dict(cls, d: dict) -> WidthPlan:
        return cls(dense={k: int(v) for k, v in d["dense"].items()}, final={k: int(v) for k, v in d["final"].items()})
