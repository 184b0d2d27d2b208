"""Ctrl-C must not cut a checkpoint in half.

Ultralytics writes ``last.pt``/``best.pt`` with a plain ``write_bytes`` after each epoch's
validation. :class:`InterruptGuard` holds the first Ctrl-C from the end of an epoch's training
until its checkpoint is on disk, then raises it; a second Ctrl-C aborts at once.
"""

from __future__ import annotations

import signal
import threading

from ultralytics.utils import LOGGER


class InterruptGuard:
    """Defers SIGINT between :meth:`start` and :meth:`finish` (main thread only; elsewhere a no-op)."""

    def __init__(self):
        self._previous = None
        self.pending = False
        self.active = False

    def start(self) -> None:
        if self.active or threading.current_thread() is not threading.main_thread():
            return
        previous = signal.getsignal(signal.SIGINT)
        if previous is None or previous == signal.SIG_IGN:  # set outside Python, or Ctrl-C ignored: leave it
            return
        self._previous, self.pending, self.active = previous, False, True
        signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum, frame) -> None:
        if self.pending:
            raise KeyboardInterrupt
        self.pending = True
        LOGGER.warning("yoloprune: interrupt received; finishing this epoch's checkpoint first "
                       "(press Ctrl-C again to abort now)")

    def finish(self) -> None:
        if not self.active:
            return
        signal.signal(signal.SIGINT, self._previous)
        self._previous, self.active = None, False
        if self.pending:
            self.pending = False
            raise KeyboardInterrupt

    def __getstate__(self):  # travels with the callbacks (DDP re-spawn): never mid-window
        return {"_previous": None, "pending": False, "active": False}
