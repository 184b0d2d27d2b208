"""The public API, from its registry in ``yoloprune/__init__.py``: every name resolves, every workflow verb has
the one signature shape, every verb's result names its record ``report`` and its folder ``run_dir``."""

import dataclasses
import importlib
import inspect

import pytest

import yoloprune

# verbs that are not workflows over a run folder: in place on a model, a checkpoint's own run, exports beside it
NOT_A_RUN = {"prune_", "resume", "export_all"}
NO_DATA = {"sparsify"}  # zeroes weights by magnitude: no data read


@pytest.mark.parametrize("name", sorted(yoloprune._LAZY))
def test_every_public_name_resolves_from_its_module(name):
    value = getattr(yoloprune, name)
    assert getattr(importlib.import_module(yoloprune._LAZY[name]), name) is value
    assert name in dir(yoloprune) or name in yoloprune.__all__


@pytest.mark.parametrize("verb", sorted(set(yoloprune.VERBS) - NOT_A_RUN))
def test_every_workflow_verb_has_the_one_signature_shape(verb):
    """``verb(model, config=None, *, data=None, project=..., name=..., exist_ok=False, **options)``."""
    params = inspect.signature(getattr(yoloprune, verb)).parameters
    first, second = list(params.values())[:2]
    assert first.kind is first.POSITIONAL_OR_KEYWORD and second.name == "config" and second.default is None
    keyword_only = {p.name for p in params.values() if p.kind is p.KEYWORD_ONLY}
    expected = {"project", "name", "exist_ok"} | (set() if verb in NO_DATA else {"data"})
    assert expected <= keyword_only, f"{verb}: {sorted(expected - keyword_only)} not keyword-only"
    assert params["exist_ok"].default is False
    assert any(p.kind is p.VAR_KEYWORD for p in params.values()), f"{verb} takes no **options"


# export_all returns one ExportResult per format: a row of its table, written beside the checkpoint
ROWS = {"ExportResult"}


@pytest.mark.parametrize("name", sorted(n for n in yoloprune.RESULTS if n.endswith("Result") and n not in ROWS))
def test_every_result_names_its_record_report_and_its_folder_run_dir(name):
    names = {f.name for f in dataclasses.fields(getattr(yoloprune, name))}
    assert {"report", "run_dir"} <= names, (name, sorted(names))


@pytest.mark.parametrize("name", sorted(yoloprune.CONFIGS))
def test_every_config_is_frozen_and_validates_when_made(name):
    cls = getattr(yoloprune, name)
    assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen, name
    cls()  # the defaults are a valid config
