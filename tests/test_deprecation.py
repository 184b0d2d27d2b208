"""Moved import paths keep working with a DeprecationWarning naming the new path; the new paths warn nothing."""

import subprocess
import sys
import warnings

import pytest

MOVED = {  # old module -> new module, for the names users imported from them
    "yoloprune.integrations.ultralytics.callbacks": "yoloprune.callbacks",
    "yoloprune.integrations.ultralytics.callbacks.pruning": "yoloprune.callbacks.pruning",
    "yoloprune.integrations.ultralytics.callbacks.distill": "yoloprune.callbacks.distill",
    "yoloprune.integrations.ultralytics.callbacks.interrupt": "yoloprune.callbacks.interrupt",
    "yoloprune.integrations.ultralytics.callbacks.ownership": "yoloprune.callbacks.ownership",
    "yoloprune.integrations.ultralytics.callbacks.rewarm": "yoloprune.callbacks.rewarm",
    "yoloprune.integrations.ultralytics.callbacks.sparsity": "yoloprune.callbacks.sparsity",
    "yoloprune.export.benchmark": "yoloprune.benchmarking.benchmark",
    "yoloprune.export.bundle": "yoloprune.benchmarking.bundle",
    "yoloprune.export.profile": "yoloprune.profiling.profile",
    "yoloprune.export.profile_kit": "yoloprune.profiling.kit",
    "yoloprune.export.timing": "yoloprune.profiling.timing",
}


@pytest.mark.parametrize("old,new", sorted(MOVED.items()))
def test_an_old_path_gives_the_same_objects_with_a_warning_naming_the_new_one(old, new):
    import importlib

    new_module = importlib.import_module(new)
    names = [n for n in vars(new_module) if not n.startswith("_") and getattr(vars(new_module)[n], "__module__", "")
             .startswith(new)]
    assert names, f"{new} defines nothing to forward"
    old_module = importlib.import_module(old)
    for name in names:
        with pytest.warns(DeprecationWarning, match=f"{old} moved to {new}: import {name} from {new}"):
            assert getattr(old_module, name) is getattr(new_module, name)
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        old_module.not_a_name


def test_the_documented_callback_imports_work_and_warn_nothing():
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        import yoloprune
        from yoloprune.callbacks import PruningCallbacks, add_pruning_callbacks, pruning_callbacks

        assert yoloprune.add_pruning_callbacks is add_pruning_callbacks
        assert yoloprune.pruning_callbacks is pruning_callbacks
        assert add_pruning_callbacks.__module__ == "yoloprune.callbacks"
        assert PruningCallbacks.__module__ == "yoloprune.callbacks.pruning"


def test_the_warning_points_at_the_users_import_line(tmp_path):
    """``from old import name`` in a user's script: the warning shows (DeprecationWarning in __main__) and names
    the script's line, not yoloprune's internals."""
    script = tmp_path / "train.py"
    script.write_text("from yoloprune.integrations.ultralytics.callbacks import add_pruning_callbacks\n")
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f"{script}:1: DeprecationWarning: yoloprune.integrations.ultralytics.callbacks moved to " \
           "yoloprune.callbacks" in proc.stderr, proc.stderr[-2000:]
