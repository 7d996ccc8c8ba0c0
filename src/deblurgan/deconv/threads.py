"""How many threads the deconvolution's work may use, and per-pixel work split over them.

The FFTs (:mod:`deblurgan.deconv.fourier`) run on :func:`budget` threads; so do the
per-pixel passes of a large image (the splitting steps' stencils and spectrum updates),
which :func:`by_rows` cuts into bands of rows computed at once. Both numpy's loops and the
compiled stencils release the interpreter, so the bands run on every core, and since each
pixel is computed by the same operations as in one pass, the result is the same to the
bit. Jobs that already run side by side on every core (the two gammas of a kernel
estimate, the windows of ``auto``'s comparison) ask for one thread each:
:func:`thread_budget`.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

# The cores this process may run on (all of them where the system cannot say).
WORKERS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
# Below this many pixels one thread does the pass: handing a band over costs about as much
# as the pass itself (a 400 px estimation window takes well under a millisecond).
PARALLEL_PIXELS = 1 << 18

_budget: contextvars.ContextVar[int] = contextvars.ContextVar("thread_budget", default=WORKERS)
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


@contextlib.contextmanager
def thread_budget(count: int) -> Iterator[None]:
    """Let the deconvolution's work use ``count`` threads within the block, in the calling
    thread only (for jobs that already run side by side on every core: more threads there
    only wait for each other). The results are the same for any count."""
    token = _budget.set(max(int(count), 1))
    try:
        yield
    finally:
        _budget.reset(token)


def budget() -> int:
    """The threads the calling thread's deconvolution work may use (:func:`thread_budget`)."""
    return _budget.get()


def _helpers() -> ThreadPoolExecutor:
    """The threads that compute all bands but the caller's own (made once, on first use)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max(WORKERS - 1, 1), thread_name_prefix="deconv-rows")
        return _pool


def by_rows(task: Callable[[int, int], None], rows: int, pixels: int) -> None:
    """Run ``task(first, stop)`` over ``rows`` rows cut into :func:`budget` bands at once
    (one band, in the calling thread, for images under :data:`PARALLEL_PIXELS`).

    ``task`` must only write the rows it is given; every band has finished when this
    returns, even if one raised (the first error is raised again).

    Examples:
        >>> import numpy as np
        >>> out = np.zeros(600_000)
        >>> def fill(first, stop):
        ...     out[first * 1000 : stop * 1000] = 1.0
        >>> by_rows(fill, 600, out.size)
        >>> float(out.sum())
        600000.0
    """
    count = min(budget(), rows) if pixels >= PARALLEL_PIXELS else 1
    if count <= 1:
        task(0, rows)
        return
    bounds = [round(rows * i / count) for i in range(count + 1)]
    others = [_helpers().submit(task, a, b) for a, b in zip(bounds[1:-1], bounds[2:])]
    try:
        task(bounds[0], bounds[1])
    finally:
        errors = [job.exception() for job in others]  # waits for every band
    for error in errors:
        if error is not None:
            raise error
