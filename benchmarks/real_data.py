"""Extract a real-photo object-detection dataset (Roboflow exports) from a fetched GitHub snapshot.

Two datasets (``--dataset``; ``DATASETS`` below holds each one's pin):

aquarium (the default)
Source
    Repository: https://github.com/Chandra0804/Underwater-Object-Detection-YOLO-V8
    Commit:     a54dbe6961dd8cea077fe673ef9e50f779a46afb (2024-01-31), folder ``aquarium_pretrain/``
    Dataset:    Roboflow "Aquarium Combined - v2 raw-1024" (https://public.roboflow.ai/object-detection/aquarium),
                exported 2020-11-18 in YOLO v5 PyTorch format (= Ultralytics YOLO layout)
Licence
    CC BY 4.0 (Creative Commons Attribution 4.0), stated in ``aquarium_pretrain/README.dataset.txt``
    ("Provided by Roboflow / License: CC BY 4.0 ... Images and annotations are released under a Creative
    Commons By-Attribution license"). The hosting repository itself carries no LICENSE file; the licence
    is the dataset's own. Attribution: "Aquarium dataset by Roboflow (Brad Dwyer), CC BY 4.0". Both README
    files are copied into the output folder.
Content
    638 real photos taken in two US aquariums (Henry Doorly Zoo, Omaha; National Aquarium, Baltimore),
    resized to fit within 1024x1024 (width x height: 768x1024 for 432, 1024x768 for 125, 576x1024 for 58,
    1024x576 for 23 images), no augmentation. 4817 boxes (train 3324, valid 909, test 584); fish dominate
    (~55%), starfish are rarest (~2%); one train image has an empty label file (background).
    Splits: train 448, valid 127, test 63 images (one YOLO .txt label file per image).
    7 classes: 0 fish, 1 jellyfish, 2 penguin, 3 puffin, 4 shark, 5 starfish, 6 stingray.
    About 70 MB.


hardhat
Source
    Repository: https://github.com/Especializacion-IA/yolov8-hard-hat_test
    Commit:     20c5ba627e40d001462e4728269f78f6159e6bb1 (2025-05-30), folder ``dataset/`` (READMEs at the root)
    Dataset:    Roboflow "hard_hat_detection" v2, exported 2025-05-28
                (https://universe.roboflow.com/iaespecializacion/hard_hat_detection-3onnc/dataset/2), YOLOv8 format
Licence
    CC BY 4.0, stated in the root ``README.dataset.txt`` ("Provided by a Roboflow user / License: CC BY 4.0") and in
    ``dataset/data.yaml``. Attribution: "hard_hat_detection by iaespecializacion (Roboflow Universe), CC BY 4.0".
Content
    954 real photos of people on work sites, auto-oriented and stretched to 640x640, no augmentation; splits train
    675, valid 204, test 75 (no source image in two splits); 5483 objects; 4 classes: 0 hard_hat, 1 no_hard_hat,
    2 no_head_wear, 3 person. 2151 label rows are polygons, 80 files mix polygons and boxes (Ultralytics then reads
    the boxes as two-point polygons, i.e. wrong boxes): every polygon row is written as its bounding box. About 51 MB.
    (The repository also holds a script with a Roboflow API key: not used, not copied.)

Get it
    git clone https://github.com/Chandra0804/Underwater-Object-Detection-YOLO-V8 aquarium-src
    python benchmarks/real_data.py --git-dir aquarium-src/.git      # [--dataset aquarium] [--out DIR] [--force]
(the pinned commit is checked out from the clone's history; a newer HEAD is used with a warning). Without
``--git-dir``, a bare mirror of the dataset's repository under /work/.mirror/ is used when one is there.

Writes ``<out>/train|valid|test/images|labels`` and ``<out>/data.yaml`` (absolute ``path:``; ``val`` is
the ``valid`` split, ``test`` the ``test`` split), extracting into a temporary folder first and renaming
it into place, and prints the YAML's path. The default ``<out>`` is ``$YOLOPRUNE_HOME/datasets/<dataset>``
(``~/.cache/yoloprune/datasets/<dataset>``). Standard library only (plus the ``git`` command).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

SPLITS = ("train", "valid", "test")
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp"}
EXTRA_FILES = ("README.dataset.txt", "README.roboflow.txt")


@dataclass(frozen=True)
class Dataset:
    """One pinned Roboflow export inside a public repository."""

    name: str
    repo: str
    commit: str
    date: str
    prefix: str  # the dataset's folder in the repository (train/valid/test below it)
    readme_prefix: str  # where its Roboflow README files are
    expected: dict
    names: tuple
    licence: str
    attribution: str

    def cite(self) -> str:
        return (f"{self.attribution}, from https://github.com/{self.repo} @ {self.commit[:12]} ({self.date}), "
                + ", ".join(f"{s} {n}" for s, n in self.expected.items()) + " images")

    def record(self) -> dict:
        return {"name": self.name, "repository": self.repo, "commit": self.commit, "date": self.date,
                "folder": self.prefix, "licence": self.licence, "attribution": self.attribution,
                "images": self.expected, "classes": list(self.names)}


DATASETS = {d.name: d for d in (
    Dataset("aquarium", "Chandra0804/Underwater-Object-Detection-YOLO-V8", "a54dbe6961dd8cea077fe673ef9e50f779a46afb",
            "2024-01-31", "aquarium_pretrain/", "aquarium_pretrain/", {"train": 448, "valid": 127, "test": 63},
            ("fish", "jellyfish", "penguin", "puffin", "shark", "starfish", "stingray"), "CC BY 4.0",
            "Aquarium dataset by Roboflow (Brad Dwyer), CC BY 4.0"),
    Dataset("hardhat", "Especializacion-IA/yolov8-hard-hat_test", "20c5ba627e40d001462e4728269f78f6159e6bb1",
            "2025-05-30", "dataset/", "", {"train": 675, "valid": 204, "test": 75},
            ("hard_hat", "no_hard_hat", "no_head_wear", "person"), "CC BY 4.0",
            "hard_hat_detection v2 by iaespecializacion (Roboflow Universe), CC BY 4.0"),
)}


def default_out(name: str = "aquarium") -> Path:
    home = Path(os.environ.get("YOLOPRUNE_HOME") or Path.home() / ".cache" / "yoloprune").expanduser()
    return home / "datasets" / name


def yaml_path(name: str) -> Path:
    """Where ``main`` writes the dataset's YAML by default."""
    if name not in DATASETS:
        raise SystemExit(f"real_data: unknown dataset {name!r}; datasets: {', '.join(DATASETS)}")
    return default_out(name) / "data.yaml"


def find_git_dir(explicit: str | None, repo: str) -> Path:
    """The clone's git dir given, else a bare mirror of the repository under ``/work/.mirror/``."""
    if explicit:
        candidates = [Path(explicit)]
    else:
        owner_name = repo.replace("/", "+")
        candidates = [Path(p) for p in sorted(glob.glob(f"/work/.mirror/{owner_name}*"))]
        candidates = [c / "repo" if (c / "repo").is_dir() else c for c in candidates]
    for cand in candidates:
        ok = subprocess.run(["git", "--git-dir", str(cand), "rev-parse", "--git-dir"],
                            capture_output=True, text=True)
        if ok.returncode == 0:
            return cand
    where = explicit or f"/work/.mirror/{repo.replace('/', '+')}*"
    name = next((d.name for d in DATASETS.values() if d.repo == repo), "dataset")
    sys.exit(f"real_data: no git dir found at {where}: git clone https://github.com/{repo} {name}-src, "
             f"then pass --git-dir {name}-src/.git")


def pick_revision(git_dir: Path, rev: str) -> str:
    """``rev`` as a commit hash; falls back to HEAD (with a warning) when the pinned commit is absent."""
    res = subprocess.run(["git", "--git-dir", str(git_dir), "rev-parse", "--verify", "-q", f"{rev}^{{commit}}"],
                         capture_output=True, text=True)
    if res.returncode == 0:
        return res.stdout.strip()
    head = subprocess.run(["git", "--git-dir", str(git_dir), "rev-parse", "HEAD"],
                          capture_output=True, text=True, check=True).stdout.strip()
    print(f"real_data: warning: commit {rev} not in {git_dir}; using HEAD {head}", file=sys.stderr)
    return head


def box_rows(text: str) -> str:
    """YOLO label rows as boxes: a polygon row (class, x1 y1 x2 y2 ...) becomes its bounding box, so no file mixes
    the two (Ultralytics reads every row of a file with one polygon as a polygon)."""
    rows = []
    for row in text.splitlines():
        vals = row.split()
        if len(vals) > 5:
            if len(vals) % 2 == 0:
                sys.exit(f"real_data: a polygon row with an odd number of coordinates: {row!r}")
            xs, ys = [float(v) for v in vals[1::2]], [float(v) for v in vals[2::2]]
            x0, x1 = max(0.0, min(xs)), min(1.0, max(xs))
            y0, y1 = max(0.0, min(ys)), min(1.0, max(ys))
            vals = [vals[0], *(f"{v:.6f}" for v in ((x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0))]
        if vals:
            rows.append(" ".join(vals))
    return "\n".join(rows) + ("\n" if rows else "")


def extract(ds: Dataset, git_dir: Path, commit: str, dest: Path) -> None:
    """Stream ``git archive`` of the dataset folder and unpack only images, labels (as boxes) and the READMEs."""
    folders = [ds.prefix.rstrip("/")]  # and the READMEs where they are (the repository's other folders: not read)
    folders += [] if ds.readme_prefix == ds.prefix else [ds.readme_prefix + f for f in EXTRA_FILES]
    with tempfile.TemporaryFile() as errors:  # git names blobs missing elsewhere in a snapshot: said if it fails
        _unpack(ds, git_dir, commit, folders, dest, errors)


def _unpack(ds: Dataset, git_dir: Path, commit: str, folders: list[str], dest: Path, errors) -> None:
    proc = subprocess.Popen(["git", "--git-dir", str(git_dir), "archive", "--format=tar", commit, *folders],
                            stdout=subprocess.PIPE, stderr=errors)
    assert proc.stdout is not None
    with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
        for member in tar:
            if not member.isfile():
                continue
            name = member.name
            if name.startswith(ds.readme_prefix) and Path(name[len(ds.readme_prefix):]).name in EXTRA_FILES \
                    and "/" not in name[len(ds.readme_prefix):]:
                rel = Path(Path(name).name)
            elif name.startswith(ds.prefix):
                rel = Path(name[len(ds.prefix):])
                parts = rel.parts
                if not (len(parts) == 3 and parts[0] in SPLITS and
                        ((parts[1] == "images" and rel.suffix.lower() in IMAGE_SUFFIXES) or
                         (parts[1] == "labels" and rel.suffix == ".txt"))) or ".." in parts:
                    continue
            else:
                continue
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            src = tar.extractfile(member)
            assert src is not None
            if rel.suffix == ".txt" and len(rel.parts) == 3:
                target.write_text(box_rows(src.read().decode()))
                continue
            with open(target, "wb") as fh:
                shutil.copyfileobj(src, fh)
    if proc.wait() != 0:
        errors.seek(0)
        sys.exit(f"real_data: git archive failed (rc={proc.returncode}) for {git_dir} at {commit}: "
                 f"{errors.read().decode(errors='replace').strip()}")


def check(ds: Dataset, dest: Path) -> dict[str, int]:
    """Count images per split; every image needs a label file whose rows are valid YOLO boxes."""
    counts = {}
    for split in SPLITS:
        images = [p for p in (dest / split / "images").glob("*") if p.suffix.lower() in IMAGE_SUFFIXES]
        counts[split] = len(images)
        for img in images:
            label = dest / split / "labels" / (img.stem + ".txt")
            if not label.is_file():
                sys.exit(f"real_data: missing label for {img}")
            if img.stat().st_size < 1024:
                sys.exit(f"real_data: {img} is tiny ({img.stat().st_size} B): an LFS pointer or truncated?")
            for row in label.read_text().split("\n"):
                if not row.strip():
                    continue
                vals = row.split()
                if len(vals) != 5 or not (0 <= int(vals[0]) < len(ds.names)) or \
                        not all(0.0 <= float(v) <= 1.0 for v in vals[1:]):
                    sys.exit(f"real_data: bad label row in {label}: {row!r}")
    for split, n in ds.expected.items():
        if counts[split] != n:
            print(f"real_data: warning: {split} has {counts[split]} images, expected {n}", file=sys.stderr)
    return counts


def write_yaml(ds: Dataset, dest: Path, final: Path, commit: str, counts: dict[str, int]) -> Path:
    """Ultralytics dataset YAML with an absolute ``path:``; JSON strings are valid YAML scalars."""
    lines = [
        f"# {ds.attribution}, from https://github.com/{ds.repo} @ {commit}",
        f"# images: train {counts['train']}, valid {counts['valid']}, test {counts['test']}",
        f"path: {json.dumps(str(final))}",
        "train: train/images",
        "val: valid/images",
        "test: test/images",
        f"nc: {len(ds.names)}",
        "names:",
        *[f"  {i}: {json.dumps(n)}" for i, n in enumerate(ds.names)],
        "",
    ]
    out = dest / "data.yaml"
    out.write_text("\n".join(lines))
    return final / "data.yaml"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", default="aquarium", choices=sorted(DATASETS))
    p.add_argument("--git-dir", default=None, help="git dir of a clone of the dataset's repository (default: a bare "
                                                    "mirror /work/.mirror/<owner>+<name>*)")
    p.add_argument("--out", default=None, help="output folder (default: $YOLOPRUNE_HOME/datasets/<dataset>)")
    p.add_argument("--rev", default=None, help="commit to extract (default: the pinned one)")
    p.add_argument("--force", action="store_true", help="re-extract even if the output already exists")
    args = p.parse_args(argv)
    ds = DATASETS[args.dataset]

    final = Path(args.out).expanduser().resolve() if args.out else default_out(ds.name).resolve()
    yaml_file = final / "data.yaml"
    if yaml_file.is_file() and not args.force:
        print(yaml_file)
        return 0

    git_dir = find_git_dir(args.git_dir, ds.repo)
    commit = pick_revision(git_dir, args.rev or ds.commit)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))
    tmp.chmod(0o755)  # mkdtemp makes it 0700
    try:
        extract(ds, git_dir, commit, tmp)
        counts = check(ds, tmp)
        write_yaml(ds, tmp, final, commit, counts)
        old = None
        if final.exists():
            old = final.parent / f".{final.name}.old-{os.getpid()}"
            final.rename(old)
        tmp.rename(final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    print(f"real_data: {ds.name} from {git_dir} @ {commit[:12]}: "
          + ", ".join(f"{s} {n}" for s, n in counts.items()), file=sys.stderr)
    print(yaml_file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
