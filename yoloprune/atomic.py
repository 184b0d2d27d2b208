"""One way to write an output file: to a temporary file beside it, fsync, rename over it.

A failed write (full disk, quota, read-only folder) leaves any previous file untouched and no
temporary file behind, and surfaces as :class:`~yoloprune.errors.OutputWriteError` naming the fix.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


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
            from .errors import OutputWriteError  # noqa: PLC0415

            raise OutputWriteError.wrap(path, e) from e
        raise
    return path


def write_json_atomic(obj, path: str | Path) -> Path:
    """``obj`` as indented JSON (non-JSON values via ``str``), written atomically."""
    return write_bytes_atomic(json.dumps(obj, indent=2, default=str).encode(), path)


def write_text_atomic(text: str, path: str | Path) -> Path:
    """:func:`write_bytes_atomic` for UTF-8 text (reports, tables, sidecars)."""
    return write_bytes_atomic(text.encode(), path)
