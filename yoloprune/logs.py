"""Readable output for long steps: third-party logs to a file in the run folder, one progress bar on the console.

Exports and benchmarks drive Ultralytics' exporter, OpenVINO, NNCF and coremltools, which print
hundreds of lines (banners, conversion passes, their own progress bars), some from C++. Inside
:func:`third_party_logs_to`, file descriptors 1 and 2 point at the log file, so everything lands
there whatever printed it; the yielded stream is the console, for yoloprune's one progress bar and
summary. ``debug=True`` in the CLI turns the capture off.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import sys
from pathlib import Path


@contextlib.contextmanager
def third_party_logs_to(log_file: str | Path | None):
    """Send stdout/stderr (Python and native) to ``log_file`` (appended) for the block; yield the console.

    Three layers are pointed at the file and given back afterwards: file descriptors 1 and 2 (C++
    libraries), ``sys.stdout``/``sys.stderr`` (Python prints, progress bars) and the streams of the
    logging handlers that hold the old ones (Ultralytics' LOGGER binds ``sys.stdout`` at import).
    ``log_file=None`` captures nothing and yields ``sys.stderr``.
    """
    if log_file is None:
        yield sys.stderr
        return
    log_file = Path(log_file)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    try:
        saved = {fd: os.dup(fd) for fd in (1, 2)}
    except OSError:  # no stdout/stderr descriptors (a daemon, pythonw): Python-level capture only
        saved = {}
    console = os.fdopen(os.dup(saved[2]), "w", buffering=1) if saved else sys.__stderr__
    swapped: list = []
    try:
        with open(log_file, "a", buffering=1, encoding="utf-8", errors="replace") as log:
            try:
                for fd in saved:
                    os.dup2(log.fileno(), fd)
                originals = (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__)
                swapped = [(h, h.setStream(log)) for h in _stream_handlers() if h.stream in originals]
                with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
                    yield console
            finally:
                for h, stream in swapped:
                    h.setStream(stream)
                for h in _stream_handlers():  # handlers created inside the block (NNCF's, the converter's) would
                    if h.stream is log:  # keep writing to the closed log file
                        h.setStream(sys.stderr)
                _flush_c_stdio()
                log.flush()
                for fd, copy in saved.items():
                    os.dup2(copy, fd)
    finally:
        for copy in saved.values():
            os.close(copy)
        if saved:
            console.close()


def _flush_c_stdio() -> None:
    """Flush C's stdio buffers (native libraries' printf) before fds 1 and 2 point back at the console."""
    try:
        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError):  # no libc symbols here (Windows): nothing buffered that we could reach
        pass


def _stream_handlers() -> list[logging.StreamHandler]:
    loggers = [logging.getLogger(), *(logging.getLogger(n) for n in list(logging.root.manager.loggerDict))]
    return [h for lg in loggers if isinstance(lg, logging.Logger) for h in lg.handlers
            if type(h) is logging.StreamHandler or (isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler))]
