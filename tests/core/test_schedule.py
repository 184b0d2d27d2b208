"""Schedules are plain callables; prune epochs and per-step targets follow from them."""

import pytest

from yoloprune.core.schedule import SCHEDULES, agp, linear, oneshot, prune_epochs, width_at


def test_schedule_values():
    assert [linear(t) for t in (0, 0.25, 1)] == [0, 0.25, 1]
    assert agp(0) == 0 and agp(1) == 1 and agp(0.5) == pytest.approx(0.875)
    assert oneshot(0.01) == 1 and oneshot(0) == 0
    for fn in SCHEDULES.values():  # monotone from 0 to 1
        values = [fn(i / 10) for i in range(11)]
        assert values == sorted(values) and values[-1] == 1


def test_prune_epochs_and_targets():
    assert prune_epochs(3, 9, 4) == [3, 5, 7, 9]
    assert prune_epochs(5, 5, 1) == [5]
    assert prune_epochs(1, 2, 4) == pytest.approx([1, 4 / 3, 5 / 3, 2])  # more steps than epochs: mid-epoch steps
    assert prune_epochs(0, 1, 3) == [0, 0.5, 1]
    assert prune_epochs(2, 2, 4) == [2, 2.25, 2.5, 2.75]  # one epoch for several steps: spread over it
    kept = [width_at(k, 4, 256, 64, agp) for k in range(1, 5)]
    assert kept[-1] == 64 and kept == sorted(kept, reverse=True)
    assert kept[0] < width_at(1, 4, 256, 64, linear)  # AGP prunes most at the start


def test_step_times_validation():
    from yoloprune.callbacks.pruning import PruningCallbacks
    from yoloprune.errors import ConfigError

    cb = PruningCallbacks(steps=3)
    assert cb.step_times(20) == [6, 9, 12]  # from scratch: 30-60 % of the run
    assert cb.step_times(20, trained=True) == [0, 2, 4]  # from a trained checkpoint: the first 20 %
    assert cb.step_times(3, trained=True) == pytest.approx([0, 1 / 3, 2 / 3])  # short runs: within the first epoch
    assert PruningCallbacks(steps=3, start_epoch=5).step_times(20, trained=True)[0] == 5  # given epochs win
    with pytest.raises(ConfigError, match="inside the run"):
        PruningCallbacks(start_epoch=2, end_epoch=10).step_times(5)


def test_width_at_walks_each_group_to_its_planned_width():
    widths = [width_at(k, 3, 64, 16, agp, round_to=8) for k in range(1, 4)]
    assert widths == sorted(widths, reverse=True) and widths[-1] == 16
    assert all(w % 8 == 0 for w in widths) and widths[0] == 32  # agp(1/3) = 0.70 of the way: 64 - 48 * 0.70 = 30.2 -> 32
    assert [width_at(k, 4, 32, 32, linear) for k in range(1, 5)] == [32] * 4  # a group planned to stay dense stays
    assert [width_at(k, 4, 40, 8, linear, round_to=8) for k in range(1, 5)] == [32, 24, 16, 8]
