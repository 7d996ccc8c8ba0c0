"""Overlapping file I/O with computation: a reading thread ahead, a writing thread behind.

Decoding and encoding (PIL, PyAV, zlib) and the network's kernels (PyTorch,
OpenVINO) release the GIL, so plain threads overlap them.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
_END = object()


def prefetch(items: Iterable[T], depth: int = 2) -> Iterator[T]:
    """Iterate over ``items``, produced by a background thread up to ``depth`` ahead.

    An exception raised while producing is re-raised here, in order. Stopping
    early (``break``, an error in the loop body) stops the producer too.
    """
    slots: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry) -> bool:
        while not stop.is_set():
            try:
                slots.put(entry, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
            put((_END, None))
        except BaseException as err:  # noqa: BLE001 - handed to the consumer
            put((_END, err))

    thread = threading.Thread(target=produce, name="deblurgan-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item, err = slots.get()
            if err is not None:
                raise err
            if item is _END:
                return
            yield item
    finally:
        stop.set()
        thread.join()


class OrderedWriter:
    """Runs write calls one at a time in a background thread, at most one pending.

    ``submit`` waits for the previous write to finish and hands its outcome to
    that write's ``done`` callback (or, without one, re-raises its error), so
    outcomes are reported in submission order and against their own write.

    Examples:
        >>> written = []
        >>> with OrderedWriter() as writer:
        ...     writer.submit(written.append, 1)
        >>> written
        [1]
    """

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="deblurgan-write")
        self._pending: tuple[Future, Callable[[BaseException | None], None] | None] | None = None

    def submit(
        self,
        write: Callable[..., object],
        *args: object,
        done: Callable[[BaseException | None], None] | None = None,
    ) -> None:
        """Queue ``write(*args)`` after settling the previous write."""
        self.settle()
        self._pending = (self._pool.submit(write, *args), done)

    def settle(self) -> None:
        """Wait for the pending write, if any, and report its outcome to its ``done``
        callback (``None`` on success); without a callback, raise its error."""
        if self._pending is None:
            return
        future, done = self._pending
        self._pending = None
        if done is not None:
            done(future.exception())
        elif future.exception() is not None:
            raise future.exception()

    def __enter__(self) -> OrderedWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            self.settle()
        finally:
            self._pool.shutdown(wait=True)
