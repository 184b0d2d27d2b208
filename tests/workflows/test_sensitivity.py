"""Sensitivity analysis: each group alone at several ratios, cached; allocation=sensitivity honours its limits."""

import json

import pytest
import torch

from models import IMGSZ, build
from yoloprune.core.config import PruneConfig
from yoloprune.core.prune import group_widths, prune_
from yoloprune.errors import ConfigError


def test_allocation_sensitivity_keeps_sensitive_groups(tmp_path):
    """A group whose mAP fell at every ratio stays dense; the others are pruned globally."""
    torch.manual_seed(0)
    model = build("yolov8n.yaml")
    dense = group_widths(model)
    names = list(dense)
    fragile = set(names[::3])  # every third group: pruning it costs accuracy at any ratio
    table = {"model": "x", "data": "d", "images": 8, "imgsz": 64, "ratios": [0.25, 0.5, 0.75], "dense_map": 0.5,
             "groups": {n: {"dense": w, "map": [0.5] * 3, "drop": [0.05] * 3 if n in fragile else [0.0] * 3}
                        for n, w in dense.items()}}
    path = tmp_path / "s.json"
    path.write_text(json.dumps(table))
    prune_(model, PruneConfig(criterion="l2", target="macs", amount=0.7, allocation="sensitivity",
                              sensitivity_table=str(path), sensitivity_drop=0.01, imgsz=IMGSZ))
    after = group_widths(model)
    assert all(after[n] == dense[n] for n in fragile)
    assert any(after[n] < dense[n] for n in names if n not in fragile)
    with pytest.raises(ConfigError, match="needs sensitivity_table"):
        PruneConfig(allocation="sensitivity")


def test_sensitivity_measures_each_group_and_caches(dense_ckpt, mini_data, tmp_path, monkeypatch):
    from yoloprune.workflows import sensitivity as module

    calls = []
    real = module._val_map
    monkeypatch.setattr(module, "_val_map", lambda *a: calls.append(1) or real(*a))
    first = module.sensitivity(dense_ckpt, data=mini_data, ratios=(0.5,), images=4, imgsz=64, project=tmp_path,
                               name="s", cache_dir=tmp_path / "cache")
    table = first.table
    assert len(table.groups) == len(calls) - 1 > 10  # the dense model once, every group once at one ratio
    assert all(len(g["map"]) == len(g["drop"]) == 1 for g in table.groups.values())
    assert (first.run_dir / "sensitivity.png").stat().st_size > 0 and first.cached.exists()
    again = module.sensitivity(dense_ckpt, data=mini_data, ratios=(0.5,), images=4, imgsz=64, cache_dir=tmp_path / "cache")
    assert again.table == table and len(calls) == len(table.groups) + 1  # cached: nothing validated again
    with pytest.raises(ConfigError, match="trained checkpoint"):
        module.sensitivity("yolov8n.yaml", data=mini_data)
