"""Timing models side by side: round-robin in a shuffled order each round, so drift (frequency, other load,
thermal state) hits every model alike and their ratio stays honest."""

from __future__ import annotations

import math
import platform
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from ultralytics.utils import TQDM

from ..errors import ConfigError

# the standalone timing script shipped in device kits and bundles (package data: runs without yoloprune); it
# holds copies of this module's timer and constants, pinned to them by tests/profiling/test_device_script.py
DEVICE_SCRIPT = Path(__file__).with_name("device") / "device_bench.py"
TIMED_MS = 300  # each median of a profile rests on at least this much timing of one model
PROBE_RUNS = 5  # timed runs of the dense model that tell how many rounds make TIMED_MS


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


def enough_runs(fn, runs: int, warmup: int) -> int:
    """``runs``, or more rounds where one call of ``fn`` is quick: enough that each median rests on at least
    ``TIMED_MS`` of timing (a small model's savings are fractions of a millisecond)."""
    return max(runs, math.ceil(TIMED_MS / interleaved_medians([fn], PROBE_RUNS, warmup)[0]))


@dataclass(frozen=True)
class Timing:
    """How a set of models is timed side by side: ``runs`` rounds after ``warmup`` calls of each, every round
    in an order shuffled by the seed a set is timed with."""

    runs: int
    warmup: int

    def __post_init__(self):
        for name, least in (("runs", 1), ("warmup", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ConfigError(f"{name}={value!r} is invalid: a whole number >= {least}")

    def medians(self, fns: list, seed: int = 0) -> list[float]:
        """Median ms of each callable (:func:`interleaved_medians`)."""
        return interleaved_medians(fns, self.runs, self.warmup, seed)


def machine_info() -> dict:
    """The CPU, its bf16/AMX flags (OpenVINO's default precision depends on them) and the OS."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        text = ""
    flags = {f for f in ("avx512_bf16", "amx_bf16", "amx_int8", "avx512_vnni", "avx512f") if f" {f}" in text}
    return {"cpu": _cpu_name(text), "cpu_flags": sorted(flags), "system": platform.platform()}


def _cpu_name(cpuinfo: str) -> str:
    """The ``model name`` line of ``/proc/cpuinfo`` (its text), else what the platform says."""
    for line in cpuinfo.splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()
