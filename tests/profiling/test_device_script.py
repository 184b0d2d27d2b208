"""The standalone script shipped to devices (kits and bundles run it as run_benchmark.py, without yoloprune)
holds copies of the library's timer and constants: each copy is pinned to the library's here, so changing one
side alone fails."""

import importlib.util
import time

import pytest

from yoloprune.benchmarking.report import ROW_KEYS
from yoloprune.export.formats import FORMATS
from yoloprune.profiling import config, kit, tables, timing
from yoloprune.profiling.timing import DEVICE_SCRIPT, enough_runs, interleaved_medians, interleaved_times

# the script's name for each copy -> the library's value
COPIES = {"TIMED_MS": timing.TIMED_MS, "PROBE_RUNS": timing.PROBE_RUNS, "TIMINGS_KIND": kit.TIMINGS,
          "COMPUTE_UNITS": FORMATS["coreml"].compute_units}


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("device_bench", DEVICE_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_copied_constant_equals_the_librarys(script):
    assert {name: getattr(script, name, None) for name in COPIES} == COPIES
    # a constant the script shares by name with the library's profiling modules is a copy too
    library = {name: getattr(m, name) for m in (timing, config, tables, kit) for name in dir(m) if name.isupper()}
    assert {n: getattr(script, n) for n in dir(script) if n in library} == \
        {n: library[n] for n in dir(script) if n in library}


def test_the_scripts_result_rows_have_the_benchmarks_row_schema(script):
    row = script._row("engine", "fp16", "jetson", "dense", 2.0, 2.5, 1.0)
    assert tuple(row) == ROW_KEYS and row["throughput_fps"] == 500.0


@pytest.mark.parametrize("seed", [0, 1, 7, 123])
def test_the_scripts_timer_calls_the_models_in_the_librarys_order(script, seed):
    """Warm-up, then every round each model once in the order the seed shuffles: call for call the same."""
    orders = []
    for timer in (script._interleaved, interleaved_times):
        calls = []
        timer([lambda i=i: calls.append(i) for i in range(4)], 25, 2, seed)
        orders.append(calls)
    assert orders[0] == orders[1] and len(orders[0]) == 4 * (25 + 2)


class FakeClock:
    """``time.perf_counter`` where each call of model ``i`` takes a fixed, call-dependent time."""

    def __init__(self):
        self.now, self.calls = 0.0, {}

    def __call__(self):
        return self.now

    def model(self, i: int):
        def run():
            n = self.calls[i] = self.calls.get(i, 0) + 1
            self.now += 1e-3 * (i + 1) * (1 + (n * 7919 % 13) / 10)  # 1-2.2 ms per unit, never in order
        return run


@pytest.mark.parametrize("runs", [6, 7])  # an even and an odd count: both medians alike
def test_the_scripts_timer_gives_the_librarys_medians(script, monkeypatch, runs):
    medians = []
    for timer in (script._interleaved, interleaved_medians):
        clock = FakeClock()
        monkeypatch.setattr(time, "perf_counter", clock)
        medians.append(timer([clock.model(i) for i in range(3)], runs, 1, 3))
    assert medians[0] == medians[1]


@pytest.mark.parametrize("runs, unit", [(15, 0.0007), (15, 0.05), (500, 0.0001), (3, 0.3)])
def test_the_scripts_rounds_for_small_models_are_the_librarys(script, monkeypatch, runs, unit):
    """A quick model gets more rounds (each median rests on TIMED_MS), the same number on both sides."""
    counts = []
    for rounds in (script._enough_runs, enough_runs):
        clock = FakeClock()
        monkeypatch.setattr(time, "perf_counter", clock)

        def fn(clock=clock):
            clock.now += unit
        counts.append(rounds(fn, runs, 2))
    assert counts[0] == counts[1] >= runs
