"""Ctrl-C and SIGTERM during training: finish the iteration, checkpoint it, then stop.

While :func:`stop_on_signals` is active, SIGINT (Ctrl-C) and SIGTERM (``kill``, ``timeout``,
batch systems, ``torchrun`` passing one on) only set a flag; the training loop reads it after
each iteration, writes a checkpoint as at any other iteration (so ``--resume`` continues
exactly as an uninterrupted run would) and ends with ``KeyboardInterrupt``. A repeat within
:data:`REPEAT_WINDOW_S` counts as the same request (a terminal signals every process of its
group, and a launcher passes the signal on as well); a later one interrupts at once, for a
checkpoint that takes too long. Data workers ignore both signals (:func:`ignore_stop_signals`):
the main process still needs their batches for the iteration it finishes, and stops them after.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Iterator

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
REPEAT_WINDOW_S = 1.0


class StopRequest:
    """Whether a stop signal came while :func:`stop_on_signals` was active.

    Attributes:
        signal: The first signal received, or None.
    """

    def __init__(self) -> None:
        self.signal: int | None = None
        self._since = 0.0

    @property
    def requested(self) -> bool:
        """Whether a stop signal came."""
        return self.signal is not None

    def receive(self, signum: int, frame: object = None) -> None:
        """The signal handler: note the first signal; a repeat after
        :data:`REPEAT_WINDOW_S` raises ``KeyboardInterrupt``."""
        if self.signal is None:
            self.signal, self._since = signum, time.monotonic()
        elif time.monotonic() - self._since > REPEAT_WINDOW_S:
            raise KeyboardInterrupt


@contextlib.contextmanager
def stop_on_signals() -> Iterator[StopRequest]:
    """Within the block, SIGINT and SIGTERM set the yielded :class:`StopRequest` instead of
    interrupting. Only in the main thread (elsewhere signals cannot be handled); a signal
    that is ignored (a background job's SIGINT) stays ignored; the previous handlers are
    restored after."""
    request = StopRequest()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signum in STOP_SIGNALS:
            if signal.getsignal(signum) is not signal.SIG_IGN:
                previous[signum] = signal.signal(signum, request.receive)
    try:
        yield request
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def ignore_stop_signals() -> None:
    """Ignore SIGINT and SIGTERM in this process (a data worker)."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
