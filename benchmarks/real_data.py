"""Extract a real-photo object-detection dataset (Roboflow "Aquarium") from a fetched GitHub snapshot.

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

Get it
    git clone https://github.com/Chandra0804/Underwater-Object-Detection-YOLO-V8 aquarium-src
    python benchmarks/real_data.py --git-dir aquarium-src/.git      # [--out DIR] [--force]
(the commit above is checked out from the clone's history; a newer HEAD is used with a warning). Without
``--git-dir``, a bare mirror of that repository under /work/.mirror/ is used when one is there.

Writes ``<out>/train|valid|test/images|labels`` and ``<out>/data.yaml`` (absolute ``path:``; ``val`` is
the ``valid`` split, ``test`` the ``test`` split), extracting into a temporary folder first and renaming
it into place, and prints the YAML's path. The default ``<out>`` is ``$YOLOPRUNE_HOME/datasets/aquarium``
(``~/.cache/yoloprune/datasets/aquarium``). Standard library only (plus the ``git`` command).
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
from pathlib import Path

NAME = "aquarium"
REPO = "Chandra0804/Underwater-Object-Detection-YOLO-V8"
COMMIT = "a54dbe6961dd8cea077fe673ef9e50f779a46afb"
PREFIX = "aquarium_pretrain/"
SPLITS = ("train", "valid", "test")
EXPECTED = {"train": 448, "valid": 127, "test": 63}
NAMES = ["fish", "jellyfish", "penguin", "puffin", "shark", "starfish", "stingray"]
EXTRA_FILES = ("README.dataset.txt", "README.roboflow.txt")
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp"}


def default_out() -> Path:
    home = Path(os.environ.get("YOLOPRUNE_HOME") or Path.home() / ".cache" / "yoloprune").expanduser()
    return home / "datasets" / NAME


def find_git_dir(explicit: str | None) -> Path:
    """The clone's git dir given, else a bare mirror of the repository under ``/work/.mirror/``."""
    if explicit:
        candidates = [Path(explicit)]
    else:
        owner_name = REPO.replace("/", "+")
        candidates = [Path(p) for p in sorted(glob.glob(f"/work/.mirror/{owner_name}*"))]
        candidates = [c / "repo" if (c / "repo").is_dir() else c for c in candidates]
    for cand in candidates:
        ok = subprocess.run(["git", "--git-dir", str(cand), "rev-parse", "--git-dir"],
                            capture_output=True, text=True)
        if ok.returncode == 0:
            return cand
    where = explicit or f"/work/.mirror/{REPO.replace('/', '+')}*"
    sys.exit(f"real_data: no git dir found at {where}: git clone https://github.com/{REPO} aquarium-src, "
             "then pass --git-dir aquarium-src/.git")


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


def extract(git_dir: Path, commit: str, dest: Path) -> None:
    """Stream ``git archive`` of the dataset folder and unpack only images, labels and the READMEs."""
    proc = subprocess.Popen(["git", "--git-dir", str(git_dir), "archive", "--format=tar", commit,
                             PREFIX.rstrip("/")], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
        for member in tar:
            if not member.isfile() or not member.name.startswith(PREFIX):
                continue
            rel = Path(member.name[len(PREFIX):])
            parts = rel.parts
            keep = (rel.name in EXTRA_FILES and len(parts) == 1) or (
                len(parts) == 3 and parts[0] in SPLITS and
                ((parts[1] == "images" and rel.suffix.lower() in IMAGE_SUFFIXES) or
                 (parts[1] == "labels" and rel.suffix == ".txt")))
            if not keep or ".." in parts:
                continue
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            src = tar.extractfile(member)
            assert src is not None
            with open(target, "wb") as fh:
                shutil.copyfileobj(src, fh)
    if proc.wait() != 0:
        sys.exit(f"real_data: git archive failed (rc={proc.returncode}) for {git_dir} at {commit}")


def check(dest: Path) -> dict[str, int]:
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
                if len(vals) != 5 or not (0 <= int(vals[0]) < len(NAMES)) or \
                        not all(0.0 <= float(v) <= 1.0 for v in vals[1:]):
                    sys.exit(f"real_data: bad label row in {label}: {row!r}")
    for split, n in EXPECTED.items():
        if counts[split] != n:
            print(f"real_data: warning: {split} has {counts[split]} images, expected {n}", file=sys.stderr)
    return counts


def write_yaml(dest: Path, final: Path, commit: str, counts: dict[str, int]) -> Path:
    """Ultralytics dataset YAML with an absolute ``path:``; JSON strings are valid YAML scalars."""
    lines = [
        f"# Roboflow Aquarium (CC BY 4.0) from https://github.com/{REPO} @ {commit}",
        f"# images: train {counts['train']}, valid {counts['valid']}, test {counts['test']}",
        f"path: {json.dumps(str(final))}",
        "train: train/images",
        "val: valid/images",
        "test: test/images",
        f"nc: {len(NAMES)}",
        "names:",
        *[f"  {i}: {json.dumps(n)}" for i, n in enumerate(NAMES)],
        "",
    ]
    out = dest / "data.yaml"
    out.write_text("\n".join(lines))
    return final / "data.yaml"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--git-dir", default=None, help=f"git dir of a clone of {REPO} (default: a bare mirror /work/.mirror/"
                                                    f"{REPO.replace('/', '+')}*)")
    p.add_argument("--out", default=None, help=f"output folder (default: {default_out()})")
    p.add_argument("--rev", default=COMMIT, help="commit to extract (default: the pinned one)")
    p.add_argument("--force", action="store_true", help="re-extract even if the output already exists")
    args = p.parse_args(argv)

    final = Path(args.out).expanduser().resolve() if args.out else default_out().resolve()
    yaml_path = final / "data.yaml"
    if yaml_path.is_file() and not args.force:
        print(yaml_path)
        return 0

    git_dir = find_git_dir(args.git_dir)
    commit = pick_revision(git_dir, args.rev)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))
    tmp.chmod(0o755)  # mkdtemp makes it 0700
    try:
        extract(git_dir, commit, tmp)
        counts = check(tmp)
        write_yaml(tmp, final, commit, counts)
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
    print(f"real_data: {NAME} from {git_dir} @ {commit[:12]}: "
          + ", ".join(f"{s} {n}" for s, n in counts.items()), file=sys.stderr)
    print(yaml_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
