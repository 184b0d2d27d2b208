"""Real training batches for data-driven criteria (taylor), read with Ultralytics' own dataset code."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator


def detection_batches(data: str | Path, imgsz: int, batch: int = 8, split: str = "train") -> Iterator[dict]:
    """Yield preprocessed batches (``img`` float in [0, 1]) of a dataset name or data YAML, without augmentation."""
    from .offline import configure_if_requested  # noqa: PLC0415

    configure_if_requested()
    from ultralytics.cfg import get_cfg  # noqa: PLC0415
    from ultralytics.data import build_dataloader, build_yolo_dataset  # noqa: PLC0415

    info = load_dataset(data)
    cfg = get_cfg(overrides={"imgsz": imgsz, "task": "detect", "rect": False})
    dataset = build_yolo_dataset(cfg, info[split], batch, info, mode="val", stride=32)
    for b in build_dataloader(dataset, batch, workers=0, shuffle=False):
        b["img"] = b["img"].float() / 255
        yield b


def load_dataset(data: str | Path) -> dict:
    """Ultralytics' dataset dict for a known name or data YAML; missing data is one clear error."""
    from .offline import configure_if_requested  # noqa: PLC0415

    configure_if_requested()
    from ultralytics.data.utils import check_det_dataset  # noqa: PLC0415

    from .data import resolve_dataset  # noqa: PLC0415
    from .errors import YoloPruneError  # noqa: PLC0415

    yaml_path = resolve_dataset(data)
    try:
        return check_det_dataset(str(yaml_path), autodownload=False)
    except (FileNotFoundError, SyntaxError, KeyError, ValueError) as e:
        raise YoloPruneError(f"dataset {data!r} is not usable ({e}); check the data YAML and that its images exist") from e
