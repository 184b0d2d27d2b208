"""The Pareto front of a search (measured latency vs validation mAP50-95) and its recommendation."""

from __future__ import annotations

from .trial import Trial


def pareto(trials) -> list[Trial]:
    """The finished trials no other finished trial beats on both latency (lower) and mAP50-95 (higher), fastest
    first."""
    done = [t for t in trials if t.status == "finished" and t.map is not None and t.timed is not None]
    front = [t for t in done
             if not any(o.timed <= t.timed and o.map >= t.map and (o.timed, o.map) != (t.timed, t.map) for o in done)]
    return sorted(front, key=lambda t: (t.timed, -t.map, t.index))


def within(trial: Trial, dense_map: float, max_drop: float) -> bool:
    """Whether ``trial`` lost at most ``max_drop`` (a fraction of mAP50-95) against the dense model."""
    return trial.map is not None and dense_map - trial.map <= max_drop + 1e-9


def recommend(trials, dense_map: float, max_drop: float) -> Trial | None:
    """The fastest finished trial within ``max_drop`` of ``dense_map`` (fractions of mAP50-95); None if none is."""
    ok = [t for t in pareto(trials) if within(t, dense_map, max_drop)]
    return ok[0] if ok else None
