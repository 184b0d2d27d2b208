"""The three workflows: one verb each, one typed config, one result type; a config plus loose options is an error."""

import json

import pytest

from yoloprune.core.config import ProgressiveConfig, PruneConfig
from yoloprune.errors import ConfigError
from yoloprune.workflows.finetune import FinetuneConfig, finetune
from yoloprune.workflows.oneshot import OneShotResult, prune
from yoloprune.workflows.progressive import prune_progressive


def test_oneshot_result_is_typed_and_matches_prune_json(pruned_run):
    assert isinstance(pruned_run, OneShotResult)
    written = json.loads(pruned_run.report_json.read_text())
    assert written["pruned"]["params"] == pruned_run.report.pruned.params
    assert [layer["after"] for layer in written["layers"]] == [layer["after"] for layer in pruned_run.report.layers]


@pytest.mark.parametrize("call", [
    lambda m, d: prune(m, PruneConfig(amount=0.3), amount=0.6),
    lambda m, d: prune_progressive(m, ProgressiveConfig(), data=d, epochs=1, steps=2),
    lambda m, d: finetune(m, FinetuneConfig(epochs=1), data=d, epochs=3),
], ids=["oneshot", "progressive", "finetune"])
def test_config_and_loose_options_together_is_an_error(call, dense_ckpt, mini_data, tmp_path):
    with pytest.raises(ConfigError, match="not both"):
        call(dense_ckpt, mini_data)


def test_finetune_config_validates_once():
    with pytest.raises(ConfigError, match="needs teacher"):
        FinetuneConfig(distill="logit")
    with pytest.raises(ConfigError, match="distill_weight"):
        FinetuneConfig(distill_weight=0)
    with pytest.raises(ConfigError, match="epochs"):
        FinetuneConfig(epochs=0)


def test_progressive_needs_epochs_and_data(dense_ckpt, mini_data):
    with pytest.raises(ConfigError, match="epochs >= 1"):
        prune_progressive(dense_ckpt, data=mini_data, epochs=0)
    with pytest.raises(ConfigError, match="needs data"):
        prune_progressive(dense_ckpt, epochs=2)


def test_the_old_positional_data_still_works_with_a_warning(dense_ckpt, mini_data):
    """``verb(model, data, config)`` was the older shape of three verbs; it still reaches the same checks."""
    with pytest.warns(DeprecationWarning, match=r"prune_progressive\(model, data, config\) is deprecated"):
        with pytest.raises(ConfigError, match="epochs >= 1"):
            prune_progressive(dense_ckpt, mini_data, ProgressiveConfig(), epochs=0)
    with pytest.warns(DeprecationWarning, match=r"finetune\(model, data, config\) is deprecated"):
        with pytest.raises(ConfigError, match="not both"):
            finetune(dense_ckpt, mini_data, FinetuneConfig(epochs=1), epochs=3)
    with pytest.raises(ConfigError, match="data given twice"):
        finetune(dense_ckpt, mini_data, data=mini_data)
    with pytest.raises(ConfigError, match="finetune needs data="):
        finetune(dense_ckpt, epochs=1)
