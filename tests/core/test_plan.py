"""The width plan: one type, walked step by step from dense to final."""

import pytest

from yoloprune.core.plan import WidthPlan
from yoloprune.core.schedule import SCHEDULES
from yoloprune.errors import ConfigError


def test_plan_walks_every_group_to_its_final_width():
    plan = WidthPlan(dense={"a": 64, "b": 32, "c": 16}, final={"a": 16, "b": 32, "c": 8})
    steps = [plan.at(k, 3, SCHEDULES["agp"], round_to=8) for k in (1, 2, 3)]
    assert steps[-1] == plan.final
    for name in plan.dense:
        widths = [s[name] for s in steps]
        assert widths == sorted(widths, reverse=True)  # never grows back
    assert [s["b"] for s in steps] == [32, 32, 32]  # planned to stay dense: stays
    assert steps[0]["a"] == 32  # agp moves 70 % of the way at step 1 of 3, rounded to a multiple of 8


def test_plan_round_trips_and_refuses_mismatched_groups():
    plan = WidthPlan(dense={"a": 64}, final={"a": 16})
    assert WidthPlan.from_dict(plan.to_dict()) == plan
    with pytest.raises(ConfigError, match="same groups"):
        WidthPlan(dense={"a": 64}, final={"b": 16})


def test_split_block_partners_are_one_map_both_ways():
    """The one map from each split-block half to its twin, by name (a traced layout) or by index (the allocator)."""
    from yoloprune.core.plan import partners
    from yoloprune.core.prune import GroupLayout

    assert partners([("a", "b"), ("c", "d")]) == {"a": "b", "b": "a", "c": "d", "d": "c"}
    assert partners(iter([(0, 3)])) == {0: 3, 3: 0} and partners([]) == {}
    layout = GroupLayout({"a": 16, "b": 16, "c": 8}, (("a", "b"),))
    assert layout.partner == partners(layout.pairs) and layout.with_width("b", 8) == {"a": 8, "b": 8, "c": 8}
