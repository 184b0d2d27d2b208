"""Every file yoloprune writes goes through here: bytes, JSON, text/Markdown, torch checkpoints, run folders.

One way to write an output file: to a temporary file beside it, fsync, rename over it. A failed
write (full disk, quota, read-only folder) leaves any previous file untouched and no temporary file
behind, and surfaces as :class:`~yoloprune.errors.OutputWriteError` naming the fix.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
from pathlib import Path

import torch
from ultralytics.utils.files import increment_path

from .errors import OutputWriteError


def write_bytes_atomic(data: bytes | memoryview, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError) and not isinstance(e, FileNotFoundError):
            raise OutputWriteError.wrap(path, e) from e
        raise
    return path


def write_json_atomic(obj, path: str | Path) -> Path:
    """``obj`` as indented JSON (non-JSON values via ``str``), written atomically."""
    return write_bytes_atomic(json.dumps(obj, indent=2, default=str).encode(), path)


def write_text_atomic(text: str, path: str | Path) -> Path:
    """:func:`write_bytes_atomic` for UTF-8 text (reports, tables, sidecars)."""
    return write_bytes_atomic(text.encode(), path)


def write_torch_atomic(obj, path: str | Path) -> Path:
    """``torch.save`` ``obj`` to ``path`` atomically."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)  # serialise first: torch's writer reports a full disk as an opaque RuntimeError
    return write_bytes_atomic(buffer.getbuffer(), path)


def run_dir(project: str | Path, name: str, exist_ok: bool = False) -> Path:
    """Ultralytics' convention: ``project/name``, or ``name2``, ``name3``... unless ``exist_ok``; created."""
    return Path(increment_path(Path(project).resolve() / name, exist_ok=exist_ok, mkdir=True))


def replace_path(src: Path, dst: Path) -> Path:
    """Move a finished file or folder (an export) over ``dst``, removing what was there."""
    if src == dst:
        return dst
    if dst.is_dir():
        shutil.rmtree(dst)
    elif dst.exists():
        dst.unlink()
    os.replace(src, dst)
    return dst
