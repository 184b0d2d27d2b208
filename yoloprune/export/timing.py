"""Timing models side by side: round-robin in a shuffled order each round, so drift (frequency, other load,
thermal state) hits every model alike and their ratio stays honest."""

from __future__ import annotations

import random
import time

import numpy as np
from ultralytics.utils import TQDM


def interleaved_times(fns: list, runs: int, warmup: int, seed: int = 0, desc: str | None = None,
                      console=None) -> list[list[float]]:
    """Milliseconds of every run of each callable (``runs`` rounds after ``warmup`` calls each); ``desc``: one
    progress bar over the rounds."""
    for fn in fns:
        for _ in range(warmup):
            fn()
    times = [[] for _ in fns]
    order, rng = list(range(len(fns))), random.Random(seed)
    rounds = TQDM(range(runs), desc=desc, total=runs, file=console) if desc else range(runs)
    for _ in rounds:
        rng.shuffle(order)
        for i in order:
            t = time.perf_counter()
            fns[i]()
            times[i].append((time.perf_counter() - t) * 1000)
    return times


def interleaved_medians(fns: list, runs: int, warmup: int, seed: int = 0) -> list[float]:
    """Median ms of each callable, timed interleaved (:func:`interleaved_times`)."""
    return [float(np.median(t)) for t in interleaved_times(fns, runs, warmup, seed)]
