"""Side-by-side timing: every round runs each model once, in an order shuffled per round."""

from yoloprune.profiling.timing import interleaved_medians, interleaved_times


def test_rounds_interleave_every_model_in_a_shuffled_order():
    calls = []
    fns = [lambda i=i: calls.append(i) for i in range(3)]
    times = interleaved_times(fns, runs=20, warmup=2, seed=0)
    assert calls[:6] == [0, 0, 1, 1, 2, 2]  # warm-up: each model before any timing
    rounds = [tuple(calls[6 + 3 * r: 9 + 3 * r]) for r in range(20)]
    assert all(sorted(r) == [0, 1, 2] for r in rounds)  # one run of each model per round
    assert len(set(rounds)) > 1 and len({r[0] for r in rounds}) == 3  # no model always first
    assert [len(t) for t in times] == [20, 20, 20] and all(ms >= 0 for t in times for ms in t)
    assert len(interleaved_medians(fns, runs=3, warmup=0)) == 3
