"""``search.json``: a search's config, its dense baseline and every trial, written after each change (atomically),
so that a stopped search resumes where it was."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..errors import ConfigError
from ..io import write_json_atomic
from .config import SearchConfig
from .trial import Trial

VERSION = 1


@dataclass
class SearchRecord:
    path: Path
    config: SearchConfig
    model: str
    data: str
    dense_map: float | None = None  # the dense model's validation mAP50-95, as given
    latency_table: str = ""
    trials: list = field(default_factory=list)
    recommended: int | None = None  # a trial's index
    recommended_map: float | None = None  # its best.pt validated again
    command: str = ""
    train_args: dict = field(default_factory=dict)  # every trial's Ultralytics arguments (a resume reuses them)

    @classmethod
    def open(cls, path: Path, config: SearchConfig, model: str, data: str) -> SearchRecord:
        """The record at ``path`` (a search resumed: the same config, model and data), else a new one."""
        if not path.exists():
            return cls(path, config, model, data)
        d = json.loads(path.read_text())
        old = replace(SearchConfig.from_dict(d["config"]), trials=config.trials)  # more trials may be asked
        if (old, d["model"], d["data"]) != (config, model, data):
            raise ConfigError(f"{path} is a search of {d['model']} on {d['data']} with other settings: resume it with "
                              f"'yolo-prune search resume={path.parent}', or start a new one with another name=")
        return cls.load(path)

    @classmethod
    def load(cls, path: Path) -> SearchRecord:
        path = Path(path)
        if path.is_dir():
            path = path / "search.json"
        if not path.exists():
            raise ConfigError(f"resume={path.parent}: no search.json there; give the folder of a search "
                              "(runs/search/<name>)")
        d = json.loads(path.read_text())
        return cls(path, SearchConfig.from_dict(d["config"]), d["model"], d["data"], d.get("dense_map"),
                   d.get("latency_table", ""), [Trial.from_dict(t) for t in d.get("trials", [])],
                   d.get("recommended"), d.get("recommended_map"), d.get("command", ""), d.get("train_args", {}))

    def trial(self, index: int) -> Trial:
        return next(t for t in self.trials if t.index == index)

    def put(self, trial: Trial) -> None:
        self.trials = [trial if t.index == trial.index else t for t in self.trials]
        if all(t.index != trial.index for t in self.trials):
            self.trials.append(trial)
        self.save()

    def save(self) -> Path:
        return write_json_atomic({"version": VERSION, "config": self.config.to_dict(), "model": self.model,
                                  "data": self.data, "dense_map": self.dense_map, "latency_table": self.latency_table,
                                  "trials": [t.to_dict() for t in self.trials], "recommended": self.recommended,
                                  "recommended_map": self.recommended_map, "command": self.command,
                                  "train_args": self.train_args}, self.path)
