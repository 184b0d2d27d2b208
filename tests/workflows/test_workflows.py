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


def test_progressive_names_train_args_it_sets_itself(dense_ckpt, mini_data):
    """``imgsz``/``epochs``/... in train_args reached Ultralytics twice: a TypeError from inside its trainer."""
    with pytest.raises(ConfigError, match=r"give them to prune_progressive itself \(prune_progressive\(model, epochs=...\)\)"):
        prune_progressive(dense_ckpt, data=mini_data, epochs=1, train_args={"epochs": 3})
    with pytest.raises(ConfigError, match="imgsz=96 but the prune config's imgsz=64"):
        prune_progressive(dense_ckpt, data=mini_data, epochs=1, imgsz=64, train_args={"imgsz": 96})


def test_progressive_reaches_a_latency_target_in_steps(dense_ckpt, mini_data, tmp_path, monkeypatch):
    """target=latency with the callbacks: the closed loop on the dense model corrects the table's budget before
    training, every step after the first prunes a model already narrower than the table's (it failed there), and
    the run ends at the widths the table predicts for the corrected budget. The runtime here is a stand-in that
    measures the table's prediction plus 0.15 of dense (a table too optimistic), so the test times nothing."""
    from models import synthetic_latency_table

    from yoloprune.core.prune import group_widths
    from yoloprune.integrations.ultralytics.model_io import load_model
    from yoloprune.io import write_json_atomic
    from yoloprune.workflows import oneshot

    dense = group_widths(load_model(dense_ckpt)[0])
    table = synthetic_latency_table({name: (w, 0.02) for name, w in dense.items()}, dense_ms=50.0)
    path = write_json_atomic(table.to_dict(), tmp_path / "table.json")

    class OptimisticMeter:
        def __init__(self, *args, **kwargs):
            pass

        def compare(self, net):
            ratio = table.predict(group_widths(net)) / table.dense_ms + 0.15
            return {"ratio": ratio, "dense_ms": 50.0, "pruned_ms": 50.0 * ratio}

    monkeypatch.setattr(oneshot, "LatencyMeter", OptimisticMeter)
    result = prune_progressive(dense_ckpt, data=mini_data, epochs=2, steps=2, start_epoch=0, end_epoch=1,
                               target="latency", amount=0.8, latency_table=str(path), criterion="l2", imgsz=64,
                               train_args={"batch": 8, "workers": 0, "plots": False, "imgsz": 64},
                               project=tmp_path, name="latency")
    assert len(result.report.history) == 2
    loop = result.report.latency
    assert loop["asked"] == 0.8 and loop["iterations"][0]["measured"] == pytest.approx(0.95, abs=0.03)
    assert loop["budget"] < 0.72 and abs(loop["measured"] - 0.8) <= 0.05 * 0.8
    assert json.loads(result.report_json.read_text())["latency"]["budget"] == loop["budget"]
    assert loop["latency_table"] == str(path)
    assert result.report.config["amount"] == round(loop["budget"], 4)  # what the callbacks planned for
    widths = group_widths(load_model(result.checkpoint)[0])
    assert abs(table.predict(widths) / table.dense_ms - loop["budget"]) <= 0.03 * loop["budget"]


def test_a_latency_table_and_a_check_of_another_runtime_are_refused(dense_ckpt, mini_data, tmp_path):
    """The closed loop would correct an OpenVINO FP32 table's budget with INT8 timings: one error naming the fix."""
    from models import synthetic_latency_table

    from yoloprune.core.prune import group_widths
    from yoloprune.integrations.ultralytics.model_io import load_model
    from yoloprune.io import write_json_atomic
    from yoloprune.workflows.latency import LatencyCheck

    dense = group_widths(load_model(dense_ckpt)[0])
    path = write_json_atomic(synthetic_latency_table({n: (w, 0.02) for n, w in dense.items()}).to_dict(),
                             tmp_path / "table.json")
    for call in (lambda c: prune(dense_ckpt, target="latency", amount=0.8, latency_table=str(path), imgsz=64,
                                 criterion="l2", check=c),
                 lambda c: prune_progressive(dense_ckpt, data=mini_data, epochs=1, target="latency", amount=0.8,
                                             latency_table=str(path), imgsz=64, check=c)):
        with pytest.raises(ConfigError, match="give hardware=intel-cpu format=openvino:fp32"):
            call(LatencyCheck(format="openvino:int8"))


def test_closed_loop_off_prunes_where_the_table_says_and_times_nothing(dense_ckpt, tmp_path, monkeypatch):
    """``LatencyCheck(closed_loop=False)`` (a search's trials: their driver times every model itself): a table
    measured on this machine prunes to the asked amount by the table alone; nothing is exported or timed."""
    from models import synthetic_latency_table

    from yoloprune.core.prune import group_widths
    from yoloprune.integrations.ultralytics.model_io import load_model
    from yoloprune.io import write_json_atomic
    from yoloprune.workflows import oneshot
    from yoloprune.workflows.latency import LatencyCheck

    dense = group_widths(load_model(dense_ckpt)[0])
    table = synthetic_latency_table({n: (w, 0.02) for n, w in dense.items()}, dense_ms=50.0)
    path = write_json_atomic(table.to_dict(), tmp_path / "table.json")

    class NoTiming:
        def __init__(self, *args, **kwargs):
            raise AssertionError("closed_loop=False timed a model")

    monkeypatch.setattr(oneshot, "LatencyMeter", NoTiming)
    check = LatencyCheck(closed_loop=False)
    result = prune(dense_ckpt, target="latency", amount=0.8, latency_table=str(path), imgsz=64, criterion="l2",
                   check=check, project=tmp_path, name="open")
    assert result.latency["measured"] is None and result.latency["budget"] == 0.8
    assert result.latency["check"] == "not measured: closed_loop=False"
    assert abs(table.predict(group_widths(load_model(result.checkpoint)[0])) / table.dense_ms - 0.8) <= 0.03 * 0.8
    loop = oneshot.latency_budget(dense_ckpt, PruneConfig(target="latency", amount=0.7, latency_table=str(path),
                                                          imgsz=64, criterion="l2"), check)
    assert loop["budget"] == 0.7 and loop["measured"] is None
    with pytest.raises(ConfigError, match="closed_loop must be True or False"):
        LatencyCheck(closed_loop="no")


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
