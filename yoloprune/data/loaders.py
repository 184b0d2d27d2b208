"""Reading a dataset with Ultralytics' own code: its dataset dict, class count, and real training batches
for the data-driven criteria (taylor)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from ultralytics.cfg import get_cfg
from ultralytics.data import build_dataloader, build_yolo_dataset
from ultralytics.data.utils import check_det_dataset

from ..errors import YoloPruneError
from .registry import resolve_dataset


def load_dataset(data: str | Path) -> dict:
    """Ultralytics' dataset dict for a known name or data YAML; missing data is one clear error."""
    yaml_path = resolve_dataset(data)
    try:
        return check_det_dataset(str(yaml_path), autodownload=False)
    except (FileNotFoundError, SyntaxError, KeyError, ValueError) as e:
        raise YoloPruneError(f"dataset {data!r} is not usable ({e}); check the data YAML and that its images exist") from e


def dataset_classes(data) -> int | None:
    """Class count of a dataset (a model built from a YAML for it gets that many outputs), or None."""
    return None if data is None else int(load_dataset(data)["nc"])


def detection_batches(data: str | Path, imgsz: int, batch: int = 8, split: str = "train") -> Iterator[dict]:
    """Yield preprocessed batches (``img`` float in [0, 1]) of a dataset name or data YAML, without augmentation."""
    info = load_dataset(data)
    cfg = get_cfg(overrides={"imgsz": imgsz, "task": "detect", "rect": False})
    dataset = build_yolo_dataset(cfg, info[split], batch, info, mode="val", stride=32)
    for b in build_dataloader(dataset, batch, workers=0, shuffle=False):
        b["img"] = b["img"].float() / 255
        yield b
