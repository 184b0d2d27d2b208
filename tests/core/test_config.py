"""The core's configs: typed, frozen, validated once, and one config or its options, never both."""

import dataclasses

import pytest

from yoloprune.core.config import ProgressiveConfig, PruneConfig, from_options
from yoloprune.errors import ConfigError


def test_configs_are_frozen():
    cfg = PruneConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.amount = 0.3
    with pytest.raises(dataclasses.FrozenInstanceError):
        ProgressiveConfig().steps = 2
    assert dataclasses.replace(cfg, amount=0.3).amount == 0.3 and cfg.amount == 0.5


@pytest.mark.parametrize("bad, message", [
    ({"amount": 1.5}, "strictly between 0 and 1"),
    ({"amount": True}, "must be of type float"),
    ({"criterion": "nope"}, "unknown criterion"),
    ({"target": "flops"}, "unknown target"),
    ({"round_to": 0}, "round_to=0 is invalid"),
    ({"imgsz": 100}, "multiple of 32"),
    ({"skip": (1.5,)}, "skip entries"),
])
def test_prune_config_checks_each_value_next_to_its_message(bad, message):
    with pytest.raises(ConfigError, match=message):
        PruneConfig(**bad)


@pytest.mark.parametrize("bad, message", [
    ({"schedule": "cosine"}, "unknown schedule"),
    ({"steps": 0}, "steps=0 is invalid"),
    ({"start_epoch": 5, "end_epoch": 2}, "before start_epoch"),
    ({"distill": "kd"}, "unknown distill"),
    ({"finetune_lr": "reset"}, "unknown finetune_lr .reset.: use one of restart, continue"),
    ({"rewarm_epochs": -1}, "rewarm_epochs"),
    ({"prune": {"amount": 0.5}}, "prune must be a PruneConfig"),
])
def test_progressive_config_checks(bad, message):
    with pytest.raises(ConfigError, match=message):
        ProgressiveConfig(**bad)


def test_flat_options_round_trip_through_checkpoints():
    """Checkpoints and prune.json hold the flat dict; ``of`` reads it back to an equal config."""
    cfg = ProgressiveConfig(prune=PruneConfig(criterion="l2", amount=0.4, skip=(3, "model.22")), steps=2, distill="logit")
    flat = cfg.to_dict()
    assert flat["amount"] == 0.4 and flat["steps"] == 2 and flat["skip"] == [3, "model.22"]
    assert ProgressiveConfig.of(**flat) == cfg
    with pytest.raises(ConfigError, match="unknown ProgressiveConfig option 'stepz'"):
        ProgressiveConfig.of(amount=0.5, stepz=3)


def test_auto_criterion_resolves_once_where_data_is_known():
    assert PruneConfig().resolved(has_data=False).criterion == "l2"
    assert PruneConfig().resolved(has_data=True).criterion == "taylor_raw"
    assert ProgressiveConfig().prune.criterion == "taylor_raw"  # the trainer's batches are always at hand


def test_a_config_and_loose_options_together_is_an_error():
    """``config or PruneConfig(**options)`` used to drop the options silently."""
    with pytest.raises(ConfigError, match="not both"):
        from_options(PruneConfig, PruneConfig(amount=0.3), {"amount": 0.6})
    with pytest.raises(ConfigError, match="not both"):
        from_options(ProgressiveConfig, ProgressiveConfig(), {"steps": 2})
    with pytest.raises(ConfigError, match="must be a PruneConfig"):
        from_options(PruneConfig, ProgressiveConfig(), {})
    assert from_options(PruneConfig, None, {"amount": 0.3}) == PruneConfig(amount=0.3)
    assert from_options(ProgressiveConfig, PruneConfig(amount=0.3)).prune.amount == 0.3
    with pytest.raises(ConfigError, match="must be a ProgressiveConfig or PruneConfig"):
        from_options(ProgressiveConfig, 0.5)
    with pytest.raises(ConfigError, match="steps= is an option of pruning while training"):
        from_options(PruneConfig, None, {"steps": 2})
    flat = from_options(ProgressiveConfig, None, {"amount": 0.3, "steps": 2})
    assert flat == ProgressiveConfig(prune=PruneConfig(amount=0.3), steps=2) == ProgressiveConfig.of(amount=0.3, steps=2)
