"""Datasets by name: the registry in ``datasets.yaml`` (generated ``shapes``, Ultralytics' names, data YAMLs).

``resolve_dataset("shapes")`` generates (once) and returns a data YAML; Ultralytics' own names
(``coco8``, ``VOC``, ...) pass through unchanged; a path to an existing data YAML is returned as is.
The registry is the package's ``datasets.yaml`` (a symlink to the project's top-level file).
"""

from __future__ import annotations

import copy
import logging
from functools import lru_cache
from pathlib import Path

import yaml

from ..errors import YoloPruneError
from ..offline import yoloprune_home
from .shapes import generate_shapes

LOGGER = logging.getLogger(__name__)

REGISTRY_FILE = Path(__file__).parent / "datasets.yaml"
_GENERATORS = {"shapes": generate_shapes}


class UnknownDatasetError(YoloPruneError, FileNotFoundError, ValueError):
    """A dataset name that is not in the registry, or a data YAML path that does not exist."""


@lru_cache(maxsize=None)
def _read_registry(path: Path) -> dict:
    with open(path, encoding="utf-8") as f:
        datasets = (yaml.safe_load(f) or {}).get("datasets")
    if not isinstance(datasets, dict) or not datasets:
        raise ValueError(f"{path}: expected a non-empty 'datasets:' mapping")
    for name, entry in datasets.items():
        kind = entry.get("kind") if isinstance(entry, dict) else None
        if kind == "generated" and entry.get("generator") not in _GENERATORS:
            raise ValueError(f"{path}: dataset {name!r} names an unknown generator {entry.get('generator')!r}")
        if kind == "ultralytics" and not entry.get("yaml"):
            raise ValueError(f"{path}: dataset {name!r} (kind ultralytics) needs a 'yaml:' entry")
        if kind not in ("generated", "ultralytics"):
            raise ValueError(f"{path}: dataset {name!r} has kind {kind!r}, expected generated or ultralytics")
    return datasets


def load_registry() -> dict[str, dict]:
    """The known datasets: ``{name: entry}`` as written in ``datasets.yaml`` (a fresh copy)."""
    return copy.deepcopy(_read_registry(REGISTRY_FILE))


def dataset_recipe(name: str) -> dict:
    """The default training recipe of a registered dataset (``{}`` when it has none)."""
    registry = load_registry()
    if name not in registry:
        raise UnknownDatasetError(_unknown_message(name, registry))
    return dict(registry[name].get("recipe") or {})


def _unknown_message(data: object, registry: dict) -> str:
    return (f"unknown dataset {str(data)!r}: use one of {', '.join(registry)} "
            f"or the path of an existing data YAML")


def resolve_dataset(data: str | Path, root: str | Path | None = None) -> Path:
    """Map a dataset name or data-YAML path to a data YAML usable as Ultralytics' ``data=``.

    * a registered ``generated`` name (``shapes``, ``shapes-mini``): generated on first use into
      ``root`` or ``$YOLOPRUNE_HOME/datasets/<name>``; returns the YAML written there;
    * a registered ``ultralytics`` name (``coco8``, ``coco128``, ``VOC``, ``coco``), or its YAML file
      name: returns Ultralytics' YAML name (e.g. ``coco8.yaml``) unchanged; Ultralytics downloads
      those images on first use, which needs internet;
    * an existing ``.yaml``/``.yml`` file: returned as is.

    Anything else raises :class:`UnknownDatasetError` (a ``FileNotFoundError`` and ``ValueError``).
    """
    registry = load_registry()
    text = str(data)
    entry = registry.get(text) or next((e for e in registry.values() if e.get("yaml") == text), None)
    if entry is not None and entry["kind"] == "ultralytics":
        LOGGER.warning("dataset %r is downloaded by Ultralytics on first use: it needs internet "
                       "(offline, use 'shapes')", text)
        return Path(entry["yaml"])
    if entry is not None:
        target = Path(root) if root is not None else yoloprune_home() / "datasets" / text
        return _GENERATORS[entry["generator"]](target, **(entry.get("params") or {}))
    path = Path(text).expanduser()
    if path.suffix.lower() in (".yaml", ".yml"):
        if path.is_file():
            check_images(path)
            return Path(data)
        raise UnknownDatasetError(f"data YAML not found: {text!r} (no such file); pass an existing data "
                                  f"YAML or one of the known datasets: {', '.join(registry)}")
    raise UnknownDatasetError(_unknown_message(data, registry))


IMAGE_SUFFIXES = {".bmp", ".dng", ".jpeg", ".jpg", ".mpo", ".png", ".tif", ".tiff", ".webp", ".pfm", ".heic"}


def _split_sources(data_yaml: Path) -> tuple[dict, Path | None]:
    try:
        info = yaml.safe_load(data_yaml.read_text()) or {}
    except (OSError, yaml.YAMLError) as e:
        raise UnknownDatasetError(f"data YAML {data_yaml} is not readable YAML ({e}): fix or regenerate it") from e
    if not isinstance(info, dict) or not info.get("train") or not info.get("val"):
        raise UnknownDatasetError(f"data YAML {data_yaml} needs 'train:' and 'val:' entries (Ultralytics format)")
    if "path" not in info:
        return info, data_yaml.parent
    root = Path(str(info["path"])).expanduser()
    if root.is_absolute():
        return info, root
    local = data_yaml.parent / root
    return info, local if local.exists() else None  # else Ultralytics' datasets_dir: not ours to judge


def check_images(data_yaml: Path) -> None:
    """Raise :class:`UnknownDatasetError` naming the split when a local data YAML's images are missing."""
    info, root = _split_sources(Path(data_yaml))
    if root is None or info.get("download"):
        return
    for split in ("train", "val"):
        for entry in info[split] if isinstance(info[split], (list, tuple)) else [info[split]]:
            source = Path(str(entry)).expanduser()
            source = source if source.is_absolute() else root / source
            if source.is_dir():
                found = any(p.suffix.lower() in IMAGE_SUFFIXES for p in source.rglob("*"))
                missing = [] if found else [f"no images in {source}"]
            elif source.suffix == ".txt" and source.is_file():  # a list of image paths
                listed = [line.strip() for line in source.read_text().splitlines() if line.strip()]
                missing = [p for p in listed if not (Path(p) if Path(p).is_absolute() else source.parent / p).exists()]
                missing = [f"{len(missing)} of {len(listed)} listed images missing, e.g. {missing[0]}"] if missing else []
                missing = missing or ([] if listed else [f"{source} lists no images"])
            else:
                missing = [f"{source} does not exist"]
            if missing:
                raise UnknownDatasetError(f"data YAML {data_yaml}: {split} images not found ({missing[0]}): "
                                          f"restore the images or fix the '{split}:' entry (and 'path:') in the YAML")
