"""A deterministic, offline, synthetic object-detection dataset in YOLO format ("shapes").

Six classes of filled shapes (circle, square, triangle, star, cross, hexagon) drawn with
anti-aliased OpenCV polygons on cluttered backgrounds. What makes it a real detection problem:

* scale: object diameters are log-uniform between 8% and 28% of the image side;
* rotation and mild anisotropic stretch per object; random colour per object (HSV uniform, only
  constrained to differ from what is under it), so colour carries no class information;
* 8-16 objects tried per image, overlapping: a placement is kept only if no object (earlier ones or the
  new one, counting the part cut off by the image border) ends up more than 50% hidden; otherwise it
  is retried elsewhere and finally dropped. Boxes are tight around the *visible* pixels;
* backgrounds are colour gradients + smooth colour noise + optional stripe textures, with distractors
  that are not objects (irregular blobs, elliptic arcs, straight lines, some over the objects);
* per-image Gaussian blur, pixel noise and JPEG compression of random strength.

The difficulty (``STYLE``) is set so that a YOLOv8n trained from scratch on a 2-core CPU learns it
within minutes without the task being trivial (see ``benchmarks/shapes_baseline.py``).

Each image has its own random stream (seed, split, index), so the first N images of a split are the
same whatever ``n_train``/``n_val`` are, and the same seed gives byte-identical files.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from pathlib import Path

import cv2
import numpy as np
from ultralytics.utils import TQDM

from ..io import write_bytes_atomic

CLASS_NAMES = ("circle", "square", "triangle", "star", "cross", "hexagon")
GENERATOR_VERSION = 4  # bump when the pictures change: existing datasets are then regenerated
MARKER = ".shapes.json"
YAML_NAME = "shapes.yaml"
SPLITS = ("train", "val")
_SPLIT_ID = {"train": 0, "val": 1}

# How hard the pictures are (changing any value changes the pictures: bump GENERATOR_VERSION).
STYLE = {
    "size": (0.08, 0.28),  # object diameter as a fraction of the image side (log-uniform)
    "objects": (8, 16),  # objects tried per image
    "max_hidden": 0.50,  # an object may lose at most this fraction of its area (occlusion + border)
    "contrast": 90.0,  # min BGR distance between an object's colour and what it covers
    "outline": 0.3,  # probability of an outline in another colour
    "stripes": 0.25,  # probability of a stripe texture in the background
    "blobs": 1, "arcs": 2, "lines": 3, "top_lines": 1,  # max distractors of each kind
    "blur": 0.5, "blur_sigma": (0.4, 1.2),  # probability and strength of a Gaussian blur
    "noise": 6.0,  # max std of the pixel noise
}
_SUB = 16  # cv2 fixed-point shift=4: sub-pixel vertex precision


def _unit_polygon(cls: int, rng: np.random.Generator) -> np.ndarray:
    """Vertices (N, 2) of class ``cls`` around the origin with circumradius ~1."""
    if cls == 0:  # circle
        t = np.linspace(0, 2 * np.pi, 48, endpoint=False)
        return np.stack([np.cos(t), np.sin(t)], 1)
    if cls in (1, 2, 5):  # regular square / triangle / hexagon
        k = {1: 4, 2: 3, 5: 6}[cls]
        t = np.arange(k) * 2 * np.pi / k
        return np.stack([np.cos(t), np.sin(t)], 1)
    if cls == 3:  # five-pointed star, random depth
        t = np.arange(10) * np.pi / 5
        r = np.where(np.arange(10) % 2 == 0, 1.0, rng.uniform(0.38, 0.5))
        return np.stack([r * np.cos(t), r * np.sin(t)], 1)
    w = rng.uniform(0.22, 0.36)  # cross / plus: arm half-width
    return np.array([(w, w), (w, 1), (-w, 1), (-w, w), (-1, w), (-1, -w), (-w, -w),
                     (-w, -1), (w, -1), (w, -w), (1, -w), (1, w)], dtype=float)


def _blob_polygon(rng: np.random.Generator) -> np.ndarray:
    """An irregular smooth 'amoeba' outline (a distractor, not an object) of radius ~1."""
    t = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    r = np.ones_like(t)
    for k in (2, 3, 4):
        r += rng.uniform(0.08, 0.22) * np.cos(k * t + rng.uniform(0, 2 * np.pi))
    r += rng.uniform(-0.06, 0.06, t.size)
    return np.stack([r * np.cos(t), r * np.sin(t)], 1)


def _place(unit: np.ndarray, center, radius: float, angle: float, stretch: float) -> np.ndarray:
    """Stretch, rotate, scale and move unit vertices; return cv2 fixed-point int32 points."""
    pts = unit * np.array([stretch, 1.0 / stretch])
    c, s = math.cos(angle), math.sin(angle)
    pts = pts @ np.array([[c, s], [-s, c]]) * radius + np.asarray(center)
    return np.round(pts * _SUB).astype(np.int32)


def _random_colour(rng: np.random.Generator) -> np.ndarray:
    """A colour drawn uniformly in HSV (greys included), as float BGR."""
    hsv = np.array([[[rng.integers(0, 180), rng.integers(0, 256), rng.integers(40, 256)]]], np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0].astype(np.float32)


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    """Float32 BGR background: gradient + smooth colour noise (+ stripes) (+ blobs/arcs/lines)."""
    x = np.arange(size, dtype=np.float32) / size
    a = rng.uniform(0, 2 * np.pi)
    t = np.cos(a) * x[None, :] + np.sin(a) * x[:, None]
    t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
    c1, c2 = _random_colour(rng), _random_colour(rng)
    cells = int(rng.integers(2, 9))
    noise = rng.uniform(-1, 1, (cells, cells, 3)).astype(np.float32) * rng.uniform(20, 70)
    small = max(size // 8, cells)  # cubic to 1/8 size, then linear: smooth, and 15x faster
    noise = cv2.resize(noise, (small, small), interpolation=cv2.INTER_CUBIC)
    img = cv2.resize(noise, (size, size), interpolation=cv2.INTER_LINEAR)
    img += c1
    img += (c2 - c1) * t[..., None]
    if rng.random() < STYLE["stripes"]:  # stripe texture
        b, f = rng.uniform(0, 2 * np.pi), rng.uniform(6, 40)
        stripes = np.sin(2 * np.pi * f * (np.cos(b) * x[None, :] + np.sin(b) * x[:, None]))
        img += rng.uniform(8, 35) * stripes[..., None]
    img = np.clip(img, 0, 255)
    for _ in range(int(rng.integers(0, STYLE["blobs"] + 1))):  # blobs
        radius = rng.uniform(STYLE["size"][0], 0.3) * size / 2
        pts = _place(_blob_polygon(rng), rng.uniform(0, size, 2), radius, rng.uniform(0, 6.3), 1.0)
        cv2.fillPoly(img, [pts], _random_colour(rng).tolist(), cv2.LINE_AA, shift=4)
    for _ in range(int(rng.integers(0, STYLE["arcs"] + 1))):  # elliptic arcs
        axes = tuple(int(v) for v in rng.uniform(0.05, 0.4, 2) * size)
        start = float(rng.uniform(0, 360))
        cv2.ellipse(img, tuple(int(v) for v in rng.uniform(0, size, 2)), axes, float(rng.uniform(0, 180)),
                    start, start + float(rng.uniform(60, 270)), _random_colour(rng).tolist(),
                    int(rng.integers(1, 5)), cv2.LINE_AA)
    _lines(img, rng, int(rng.integers(0, STYLE["lines"] + 1)), thickness=(1, 6))
    return img


def _lines(img: np.ndarray, rng: np.random.Generator, n: int, thickness=(1, 3)) -> None:
    """Draw ``n`` random anti-aliased straight lines (distractors) in place."""
    size = img.shape[0]
    for _ in range(n):
        p, q = (tuple(int(v) for v in rng.uniform(-0.1, 1.1, 2) * size) for _ in range(2))
        cv2.line(img, p, q, _random_colour(rng).tolist(), int(rng.integers(*thickness)), cv2.LINE_AA)


def _window(pts: np.ndarray, size: int) -> tuple[int, int, int, int] | None:
    """Pixel window (x0, y0, x1, y1) holding fixed-point polygon ``pts``, clipped to the image."""
    lo, hi = pts.min(0) // _SUB - 1, pts.max(0) // _SUB + 2
    x0, y0 = max(int(lo[0]), 0), max(int(lo[1]), 0)
    x1, y1 = min(int(hi[0]), size), min(int(hi[1]), size)
    return (x0, y0, x1, y1) if x1 - x0 > 1 and y1 - y0 > 1 else None


def render_image(rng: np.random.Generator, size: int) -> tuple[np.ndarray, list[tuple[int, float, float, float, float]]]:
    """Draw one image; return (uint8 BGR image, labels as (class, xc, yc, w, h) normalised)."""
    img = _background(rng, size)
    owner = np.full((size, size), -1, np.int16)  # index of the object that owns each pixel
    areas: list[float] = []  # full polygon area of each kept object, in pixels
    visible: list[int] = []  # pixels of it still visible
    classes: list[int] = []
    lo, hi = STYLE["objects"]
    keep = 1 - STYLE["max_hidden"]
    for _ in range(int(rng.integers(lo, hi + 1))):
        cls = int(rng.integers(len(CLASS_NAMES)))
        unit = _unit_polygon(cls, rng)
        radius = math.exp(rng.uniform(*np.log(STYLE["size"]))) * size / 2
        stretch = math.exp(rng.uniform(-0.2, 0.2))
        for _attempt in range(12):
            pts = _place(unit, rng.uniform(0, size, 2), radius, rng.uniform(0, 2 * np.pi), stretch)
            win = _window(pts, size)
            if win is None:
                continue
            x0, y0, x1, y1 = win
            mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
            cv2.fillPoly(mask, [pts], 255, cv2.LINE_AA, shift=4, offset=(-x0 * _SUB, -y0 * _SUB))
            inside = mask >= 128
            area = max(cv2.contourArea(pts.astype(np.float32) / _SUB), 1.0)
            if inside.sum() < keep * area:
                continue  # mostly outside the image
            below = owner[y0:y1, x0:x1][inside]
            lost = np.bincount(below[below >= 0], minlength=len(areas))
            if len(areas) and np.any(np.asarray(visible) - lost < keep * np.asarray(areas)):
                continue  # would hide too much of an earlier object
            break
        else:
            continue  # no room for it: drop the object
        visible = [v - int(n) for v, n in zip(visible, lost)] + [int(inside.sum())]
        owner[y0:y1, x0:x1][inside] = len(areas)
        areas.append(area)
        classes.append(cls)
        _paint(img[y0:y1, x0:x1], mask, rng)
    _lines(img, rng, int(rng.integers(0, STYLE["top_lines"] + 1)), thickness=(1, 3))  # over the objects
    if rng.random() < STYLE["blur"]:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(*STYLE["blur_sigma"]))
    noise = np.frombuffer(rng.bytes(img.size), np.uint8).reshape(img.shape).astype(np.float32)
    noise -= 127.5
    noise *= np.float32(rng.uniform(0, STYLE["noise"]) / 73.9)  # uniform pixel noise
    img += noise
    labels = []
    for i, cls in enumerate(classes):
        x, y, w, h = cv2.boundingRect((owner == i).view(np.uint8))
        labels.append((cls, (x + w / 2) / size, (y + h / 2) / size, w / size, h / size))
    return np.clip(img, 0, 255).astype(np.uint8), labels


def _paint(region: np.ndarray, mask: np.ndarray, rng: np.random.Generator) -> None:
    """Alpha-blend one object (shaded fill, optional outline) into ``region`` through its AA ``mask``."""
    h, w = mask.shape
    alpha = mask[..., None].astype(np.float32) / 255
    under = region[mask >= 128].mean(0)
    for _ in range(20):  # a colour that stands out from what it covers
        colour = _random_colour(rng)
        if np.linalg.norm(colour - under) >= STYLE["contrast"]:
            break
    a = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(a) * np.arange(w, dtype=np.float32)[None, :]
            + np.sin(a) * np.arange(h, dtype=np.float32)[:, None]) / max(w, h)
    shade = 1 - rng.uniform(0, 0.4) * (ramp - ramp.min())
    region[:] = region * (1 - alpha) + colour * shade[..., None] * alpha
    if rng.random() < STYLE["outline"]:  # outline in another colour, drawn inside the shape's edge
        edge = cv2.morphologyEx(mask, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
        beta = np.minimum(edge, mask)[..., None].astype(np.float32) / 255
        region[:] = region * (1 - beta) + _random_colour(rng) * beta


def _progress(items, total: int, desc: str):
    """Ultralytics' progress bar over ``items``."""
    return TQDM(items, total=total, desc=desc)


def _file_names(split: str, n: int, start: int = 0):
    """Relative (image, label) paths of images ``start..n-1`` of ``split``."""
    for i in range(start, n):
        yield f"images/{split}/{i:06d}.jpg", f"labels/{split}/{i:06d}.txt"


def _read_marker(root: Path) -> dict | None:
    try:
        return json.loads((root / MARKER).read_text())
    except (OSError, ValueError):
        return None


def _check_foreign(root: Path, owned: dict[str, int]) -> None:
    """Refuse to write next to image/label files this generator did not write (never delete them)."""
    if owned == {s: 0 for s in SPLITS} and (root / YAML_NAME).exists():
        raise FileExistsError(f"{root / YAML_NAME} exists but was not written by generate_shapes: "
                              "use an empty folder as the dataset root")
    ours = {p for s in SPLITS for pair in _file_names(s, owned[s]) for p in pair}
    ours |= {f"labels/{s}.cache" for s in SPLITS}
    for sub in (f"{kind}/{s}" for kind in ("images", "labels") for s in SPLITS):
        folder = root / sub
        foreign = [p.name for p in folder.iterdir() if f"{sub}/{p.name}" not in ours] if folder.is_dir() else []
        if foreign:
            raise FileExistsError(f"{folder} holds files generate_shapes did not write ({foreign[0]}, ...): "
                                  "use an empty folder as the dataset root")


def generate_shapes(root: str | Path, *, n_train: int = 512, n_val: int = 128, imgsz: int = 320,
                    seed: int = 0, overwrite: bool = False) -> Path:
    """Write the shapes dataset under ``root`` and return the path of its data YAML.

    Layout: ``root/images/{train,val}/NNNNNN.jpg``, ``root/labels/{train,val}/NNNNNN.txt`` and
    ``root/shapes.yaml``. The parameters are kept in ``root/.shapes.json``; when they match and every
    file is there, nothing is written (unless ``overwrite``). Files are generated in a staging folder
    and moved into place; the marker says "complete" only at the end, so an interrupted run is redone.
    Only files this generator wrote are ever replaced or removed (plus Ultralytics' ``labels/*.cache``
    derived from them); a root with other image/label files raises :class:`FileExistsError`.
    """
    for name, value, low in (("n_train", n_train, 1), ("n_val", n_val, 1), ("imgsz", imgsz, 32)):
        if not isinstance(value, int) or value < low:
            raise ValueError(f"generate_shapes: {name} must be an integer >= {low}, got {value!r}")
    root = Path(root).expanduser().resolve()
    params = {"n_train": n_train, "n_val": n_val, "imgsz": imgsz, "seed": int(seed)}
    counts = {"train": n_train, "val": n_val}
    yaml_path = root / YAML_NAME
    style = json.loads(json.dumps(STYLE))
    old = _read_marker(root) or {}
    if (not overwrite and old.get("complete") and old.get("version") == GENERATOR_VERSION
            and old.get("style") == style
            and old.get("params") == params and yaml_path.exists()
            and all((root / p).exists() for s in SPLITS for pair in _file_names(s, counts[s]) for p in pair)):
        return yaml_path
    owned = {s: int(old.get("owned", {}).get(s, 0)) for s in SPLITS}
    root.mkdir(parents=True, exist_ok=True)
    _check_foreign(root, owned)
    owned = {s: max(owned[s], counts[s]) for s in SPLITS}
    marker = {"generator": "yoloprune.data.shapes", "version": GENERATOR_VERSION, "params": params,
              "style": style}
    write_bytes_atomic(json.dumps({**marker, "complete": False, "owned": owned}).encode(), root / MARKER)

    staging = Path(tempfile.mkdtemp(prefix=".shapes-staging-", dir=root))
    try:
        for split in SPLITS:
            for kind in ("images", "labels"):
                (staging / kind / split).mkdir(parents=True)
                (root / kind / split).mkdir(parents=True, exist_ok=True)
            for i, (im_rel, lb_rel) in enumerate(_progress(_file_names(split, counts[split]), counts[split],
                                                           f"shapes {split}")):
                rng = np.random.default_rng([int(seed), _SPLIT_ID[split], i])
                img, labels = render_image(rng, imgsz)
                quality = int(rng.integers(75, 96))
                ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
                if not ok:
                    raise RuntimeError(f"OpenCV could not encode {im_rel}")
                (staging / im_rel).write_bytes(buf.tobytes())
                (staging / lb_rel).write_text("".join(f"{c} {x:.6f} {y:.6f} {w:.6f} {h:.6f}\n"
                                                      for c, x, y, w, h in labels))
                os.replace(staging / im_rel, root / im_rel)
                os.replace(staging / lb_rel, root / lb_rel)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    for split in SPLITS:  # leftovers of an earlier, larger generation, and caches derived from it
        for pair in _file_names(split, owned[split], start=counts[split]):
            for rel in pair:
                (root / rel).unlink(missing_ok=True)
        (root / "labels" / f"{split}.cache").unlink(missing_ok=True)
    names = "".join(f"  {i}: {n}\n" for i, n in enumerate(CLASS_NAMES))
    write_bytes_atomic((f"# shapes: synthetic detection dataset written by yoloprune "
                        f"(generate_shapes {json.dumps(params)})\n"
                        f"path: {json.dumps(str(root))}\ntrain: images/train\nval: images/val\n"
                        f"names:\n{names}").encode(), yaml_path)
    write_bytes_atomic(json.dumps({**marker, "complete": True, "owned": counts}).encode(), root / MARKER)
    return yaml_path
