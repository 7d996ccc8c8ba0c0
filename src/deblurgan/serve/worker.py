"""Jobs in a separate process, so that a cancelled job stops within seconds.

The network deblurs a photo in one long call (a converted model in OpenVINO, or PyTorch
layer by layer over tiles) that cannot be interrupted from inside. A
:class:`WorkerProcess` runs a :class:`~deblurgan.serve.runner.JobRunner` in a child process
(started with ``spawn``: a fork of a process with threads can deadlock) and sends each job
to it over a pipe; the child streams the job's :class:`~deblurgan.serve.work.Progress` back.
A cancel first asks the child to stop (methods that report stages stop at the next one, and
the child, with its model, lives on); a child that has not stopped after
:data:`CANCEL_GRACE_S` is killed, and the next job starts a fresh one. The model, its memory
and its speed checks live in the child only.

The child ignores Ctrl-C (SIGINT, sent to the terminal's whole process group): the server
stops it, by closing the pipe (an idle child returns) or by a kill after the grace period;
its progress bars lock with a thread lock, so a killed child leaves no semaphore behind.
"""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
import signal
import threading
import time
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from typing import Any

from deblurgan.serve.runner import JobRequest, JobRunner, MakeDeblurrer
from deblurgan.serve.work import STARTING, Cancelled, Outcome, Progress

CANCEL_GRACE_S = 1.5  # a job asked to stop that is still running after this is killed
SEND_EVERY_S = 0.2  # how often the child sends the running job's progress
# what the child owns of a job's Progress (the parent keeps started and ended)
CHILD_FIELDS = tuple(
    f.name for f in dataclasses.fields(Progress) if f.name not in ("started", "ended")
)


class JobFailed(Exception):
    """A job failed in the child; the message is the child's error."""


class WorkerProcess:
    """A child process that holds one model and runs jobs; it can be stopped at any moment.

    Args:
        make_deblurrer: Builds the model for a job's options, in the child (picklable).
        max_pixels: Images above this are refused with a message.
    """

    def __init__(self, make_deblurrer: MakeDeblurrer, max_pixels: int | None) -> None:
        self.make_deblurrer, self.max_pixels = make_deblurrer, max_pixels
        self._context = multiprocessing.get_context("spawn")
        self._process: Any = None
        self._conn: Connection | None = None
        self._stop = self._context.Event()

    def run(
        self, request: JobRequest, progress: Progress, cancelled: Callable[[], bool]
    ) -> Outcome:
        """Run one job in the child, mirroring its progress into ``progress``.

        Raises:
            Cancelled: ``cancelled()`` became True; the job stopped or its process was killed.
            JobFailed: The job failed (its message), or the child died (out of memory).
        """
        if self._process is None:
            progress.set_stage(STARTING)  # a fresh process: a second or two
        conn = self._start()
        self._stop.clear()
        conn.send(request)
        asked = None
        while True:
            if cancelled() and asked is None:
                self._stop.set()
                asked = time.monotonic()
            if asked is not None and time.monotonic() - asked > CANCEL_GRACE_S:
                self.close(wait_s=0)
                raise Cancelled
            try:
                ready = conn.poll(0.05)
                message = conn.recv() if ready else None
            except (EOFError, OSError):
                message = None
                ready = True
            if message is None:
                if ready or not self._process.is_alive():
                    self._process.join(timeout=5)
                    code = self._process.exitcode
                    self.close()
                    if asked is not None:
                        raise Cancelled
                    raise JobFailed(
                        f"the deblurring process stopped (exit code {code}): out of memory?"
                    )
                continue
            kind, value = message
            if kind == "progress":
                for name in CHILD_FIELDS:
                    setattr(progress, name, getattr(value, name))
            elif kind == "done":
                return value
            elif kind == "cancelled":
                raise Cancelled
            else:
                raise JobFailed(value)

    def close(self, wait_s: float = CANCEL_GRACE_S) -> None:
        """Stop the child and forget it; a next job starts another. The child is asked to stop
        (its job at the next stage, then its loop as the pipe closes) and killed if it still
        runs after ``wait_s`` seconds."""
        if self._process is None:
            return
        try:
            self._stop.set()
            self._conn.close()
            self._process.join(timeout=wait_s)
            if self._process.is_alive():
                self._process.kill()
                self._process.join(timeout=10)
        finally:
            self._process, self._conn = None, None

    def _start(self) -> Connection:
        if self._process is None or not self._process.is_alive():
            self.close()
            parent, child = self._context.Pipe()
            self._process = self._context.Process(
                target=_child_main,
                args=(child, self._stop, self.make_deblurrer, self.max_pixels),
                name="deblurgan-worker",
                daemon=True,
            )
            with _sigint_blocked():  # until the child ignores it (the child inherits the mask)
                self._process.start()
            child.close()
            self._conn = parent
        return self._conn


def _child_main(
    conn: Connection, stop: Any, make_deblurrer: MakeDeblurrer, max_pixels: int | None
) -> None:
    """The child: run each job sent, stream its progress, answer how it ended; return when
    the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's; the server stops us
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    from tqdm import tqdm

    tqdm.set_lock(threading.RLock())  # not a semaphore, which a kill would leave behind
    runner = JobRunner(make_deblurrer, max_pixels)
    lock = threading.Lock()

    def send(message: tuple) -> None:
        with lock, contextlib.suppress(OSError):  # the server closed the pipe: recv() ends
            conn.send(message)

    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        progress, finished = Progress(), threading.Event()
        sender = threading.Thread(
            target=_send_progress, args=(send, progress, finished), daemon=True
        )
        sender.start()
        try:
            answer = ("done", runner.run(request, progress, stop.is_set))
        except Cancelled:
            answer = ("cancelled", None)
        except Exception as err:  # noqa: BLE001 - reported on the page; the child goes on
            answer = ("failed", f"{type(err).__name__}: {err}" if not str(err) else str(err))
        finished.set()
        sender.join()
        send(("progress", dataclasses.replace(progress)))
        send(answer)


@contextlib.contextmanager
def _sigint_blocked() -> Iterator[None]:
    """Block SIGINT in this thread (POSIX), so that a child started here inherits it blocked."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _send_progress(
    send: Callable[[tuple], None], progress: Progress, finished: threading.Event
) -> None:
    last = None
    while not finished.wait(SEND_EVERY_S):
        snapshot = dataclasses.replace(progress)
        if snapshot != last:
            send(("progress", snapshot))
            last = snapshot
