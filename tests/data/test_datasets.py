"""The offline ``shapes`` dataset and the dataset registry (fast: tiny images)."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from yoloprune.data import (CLASS_NAMES, UnknownDatasetError, dataset_recipe, generate_shapes, load_registry,
                            resolve_dataset)
from yoloprune.data.shapes import render_image

SMALL = {"n_train": 12, "n_val": 4, "imgsz": 128}
ROOT = Path(__file__).resolve().parents[2]


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes()
            for sub in ("images", "labels") for p in sorted((root / sub).rglob("*")) if p.is_file()}


def _labels(root: Path, split: str) -> list[list[list[float]]]:
    return [[[float(v) for v in line.split()] for line in p.read_text().splitlines()]
            for p in sorted((root / "labels" / split).glob("*.txt"))]


@pytest.fixture(scope="module")
def objects():
    """(class, box, mean BGR at the box centre, image index) for the objects of 150 128-px images."""
    out = []
    for i in range(150):
        img, labels = render_image(np.random.default_rng([7, 0, i]), 128)
        for cls, x, y, w, h in labels:
            cx, cy = min(int(x * 128), 127), min(int(y * 128), 127)
            centre = img[max(cy - 1, 0):cy + 2, max(cx - 1, 0):cx + 2].reshape(-1, 3).mean(0)
            out.append((cls, (x, y, w, h), centre, i))
    return out


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    a = _files(generate_shapes(tmp_path / "a", seed=3, **SMALL).parent)
    b = _files(generate_shapes(tmp_path / "b", seed=3, **SMALL).parent)
    c = _files(generate_shapes(tmp_path / "c", seed=4, **SMALL).parent)
    assert len(a) == 2 * (SMALL["n_train"] + SMALL["n_val"])
    assert a == b
    assert a.keys() == c.keys()
    assert sum(a[k] != c[k] for k in a if k.endswith(".jpg")) == SMALL["n_train"] + SMALL["n_val"]


def test_yaml_and_label_format(tmp_path):
    data_yaml = generate_shapes(tmp_path, **SMALL)
    cfg = yaml.safe_load(data_yaml.read_text())
    assert cfg["train"] == "images/train" and cfg["val"] == "images/val"
    assert Path(cfg["path"]) == tmp_path.resolve()
    assert cfg["names"] == dict(enumerate(CLASS_NAMES)) and len(CLASS_NAMES) == 6
    for split in ("train", "val"):
        images = sorted((tmp_path / "images" / split).glob("*.jpg"))
        labels = sorted((tmp_path / "labels" / split).glob("*.txt"))
        assert [p.stem for p in images] == [p.stem for p in labels] and len(images) == SMALL[f"n_{split}"]
        assert cv2.imread(str(images[0])).shape == (128, 128, 3)
        rows = [row for image in _labels(tmp_path, split) for row in image]
        assert all(len(r) == 5 and int(r[0]) == r[0] and 0 <= r[0] < len(CLASS_NAMES) for r in rows)
        for _, x, y, w, h in rows:
            assert 0 < w <= 1 and 0 < h <= 1
            assert -1e-6 <= x - w / 2 and x + w / 2 <= 1 + 1e-6 and -1e-6 <= y - h / 2 and y + h / 2 <= 1 + 1e-6
    counts = [len(image) for image in _labels(tmp_path, "train")]
    assert min(counts) >= 1 and max(counts) <= 16 and np.mean(counts) >= 5  # crowded scenes


def test_classes_balanced_and_scales_varied(objects):
    counts = np.bincount([c for c, *_ in objects], minlength=len(CLASS_NAMES))
    assert len(objects) > 400
    assert counts.min() > 0.6 * counts.mean() and counts.max() < 1.4 * counts.mean()
    sides = np.array([max(w, h) for _, (_, _, w, h), *_ in objects])
    assert sides.min() < 0.1 and sides.max() > 0.25  # small and large objects (diameters 8-28 % of the side)
    assert np.mean(sides < 0.15) > 0.2  # plenty of small ones


def test_colour_does_not_reveal_class(objects):
    """A nearest-class-mean classifier on the colour at the box centre is near chance (1/6)."""
    classes = np.array([c for c, *_ in objects])
    colours = np.array([bgr for _, _, bgr, _ in objects], dtype=np.float64)
    half = len(objects) // 2
    means = np.array([colours[:half][classes[:half] == k].mean(0) for k in range(len(CLASS_NAMES))])
    guess = np.argmin(((colours[half:, None, :] - means[None]) ** 2).sum(-1), 1)
    assert np.mean(guess == classes[half:]) < 0.3
    hue = cv2.cvtColor(colours.astype(np.uint8)[None], cv2.COLOR_BGR2HSV)[0, :, 0].astype(float)
    per_class = [hue[classes == k] for k in range(len(CLASS_NAMES))]
    assert all(h.std() > 25 for h in per_class)  # every class comes in many hues


def test_objects_overlap_sometimes(objects):
    def overlap(a, b):
        (ax, ay, aw, ah), (bx, by, bw, bh) = a, b
        return abs(ax - bx) < (aw + bw) / 2 and abs(ay - by) < (ah + bh) / 2

    pairs = sum(overlap(a[1], b[1]) for i, a in enumerate(objects) for b in objects[i + 1:] if a[3] == b[3])
    assert pairs > 20


def test_second_call_rewrites_nothing(tmp_path):
    data_yaml = generate_shapes(tmp_path, **SMALL)
    stamps = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    assert generate_shapes(tmp_path, **SMALL) == data_yaml
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()} == stamps
    (tmp_path / "labels" / "train" / "000003.txt").unlink()  # incomplete -> regenerated
    generate_shapes(tmp_path, **SMALL)
    assert (tmp_path / "labels" / "train" / "000003.txt").exists()


def test_changed_params_regenerate_and_drop_stale_files(tmp_path):
    generate_shapes(tmp_path, **SMALL)
    (tmp_path / "notes.txt").write_text("mine")
    generate_shapes(tmp_path, **{**SMALL, "n_train": 5})
    assert len(list((tmp_path / "images" / "train").iterdir())) == 5
    assert len(list((tmp_path / "labels" / "train").iterdir())) == 5
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".shapes-staging")]


def test_refuses_to_mix_with_foreign_files(tmp_path):
    (tmp_path / "images" / "train").mkdir(parents=True)
    (tmp_path / "images" / "train" / "holiday.jpg").write_bytes(b"not ours")
    with pytest.raises(FileExistsError, match="holiday.jpg"):
        generate_shapes(tmp_path, **SMALL)
    assert (tmp_path / "images" / "train" / "holiday.jpg").read_bytes() == b"not ours"


def test_bad_arguments():
    with pytest.raises(ValueError, match="n_train"):
        generate_shapes("/nonexistent/never", n_train=0)


def test_resolve_generated_names(tmp_path, monkeypatch):
    monkeypatch.setenv("YOLOPRUNE_HOME", str(tmp_path / "home"))
    data_yaml = resolve_dataset("shapes-mini")
    assert data_yaml == tmp_path / "home" / "datasets" / "shapes-mini" / "shapes.yaml"
    params = load_registry()["shapes-mini"]["params"]
    assert len(list((data_yaml.parent / "images" / "train").glob("*.jpg"))) == params["n_train"]
    assert resolve_dataset("shapes-mini", root=tmp_path / "elsewhere") == tmp_path / "elsewhere" / "shapes.yaml"


def test_resolve_ultralytics_names_and_paths(tmp_path):
    assert resolve_dataset("coco8") == Path("coco8.yaml")
    assert resolve_dataset("VOC.yaml") == Path("VOC.yaml")
    own = tmp_path / "mine.yaml"
    own.write_text("path: .\ntrain: a\nval: b\nnames: {0: x}\n")
    with pytest.raises(UnknownDatasetError, match="train images not found"):
        resolve_dataset(own)  # its folders do not exist yet
    for split in ("a", "b"):
        (tmp_path / split / "sub").mkdir(parents=True)
        (tmp_path / split / "sub" / "0.jpg").write_bytes(b"\xff\xd8")
    assert resolve_dataset(own) == own and resolve_dataset(str(own)) == own
    (tmp_path / "b" / "sub" / "0.jpg").unlink()
    with pytest.raises(UnknownDatasetError, match=r"val images not found \(no images in"):
        resolve_dataset(own)


def test_resolve_errors_name_the_fix(tmp_path):
    with pytest.raises(UnknownDatasetError) as info:
        resolve_dataset("foo")
    message = str(info.value)
    assert message.startswith("unknown dataset 'foo'")
    assert all(name in message for name in ("shapes", "shapes-mini", "coco8", "VOC"))
    assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, ValueError)
    with pytest.raises(FileNotFoundError, match="data YAML not found"):
        resolve_dataset(tmp_path / "missing.yaml")


def test_registry_file_is_packaged_and_has_recipes():
    packaged = ROOT / "yoloprune" / "data" / "datasets.yaml"
    assert packaged.read_text() == (ROOT / "datasets.yaml").read_text()
    registry = load_registry()
    assert {"shapes", "shapes-mini", "coco8", "coco128", "VOC", "coco"} <= registry.keys()
    assert all(e["needs_internet"] for e in registry.values() if e["kind"] == "ultralytics")
    for name in ("shapes", "shapes-mini"):
        recipe = dataset_recipe(name)
        assert {"epochs", "batch", "imgsz"} <= recipe.keys()
        assert recipe["imgsz"] == registry[name]["params"]["imgsz"]


def test_ultralytics_accepts_the_yaml(tmp_path, monkeypatch):
    monkeypatch.setenv("YOLOPRUNE_HOME", os.environ.get("YOLOPRUNE_HOME") or str(tmp_path / "home"))
    from yoloprune import offline

    offline.configure()
    from ultralytics.data.utils import check_det_dataset

    info = check_det_dataset(str(generate_shapes(tmp_path / "ds", **SMALL)))
    assert info["nc"] == 6 and info["names"][3] == "star"
    assert Path(info["train"]) == (tmp_path / "ds" / "images" / "train").resolve()
