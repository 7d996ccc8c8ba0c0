"""The job queue behind ``deblurgan serve``: one worker, one model in memory, jobs in order.

Uploads are saved under a private temporary folder with names this module
makes up (never a name or path from the client) and deleted once their job
has run. Each finished image job keeps its result and two JPEG previews
(before and after, upright) until it is removed or the queue is closed, when
the whole folder goes. Only one model (a :mod:`deblurgan.methods` method) exists
at a time: a job asking for another method, model or precision replaces it, so
several tabs or uploads never run two models at once or multiply the memory.
Each job belongs to an ``owner`` (the page's browser cookie; None for clients
without one), which the web application uses to show each browser its own jobs.

With ``isolate=True`` (``deblurgan serve``) the model lives in a child process
(:class:`~deblurgan.serve.worker.WorkerProcess`) that is killed when a cancelled job does
not stop by itself within a second or two, so a cancel always stops the work and the next
job starts; in the queue's own thread, a cancel stops a job between frames and at the
stages a method reports. What a job does, and how its progress is counted, is in
:mod:`deblurgan.serve.work`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import secrets
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Literal

from deblurgan.io.formats import output_suffix
from deblurgan.io.images import DEFAULT_MAX_PIXELS
from deblurgan.io.media import is_media, is_video
from deblurgan.serve.estimate import Route, Speed
from deblurgan.serve.runner import JobOptions, JobRequest, JobRunner, MakeDeblurrer
from deblurgan.serve.words import STOPPED, outcome_words, plain_error, unsupported
from deblurgan.serve.work import Cancelled, Progress
from deblurgan.serve.worker import JobFailed, WorkerProcess

__all__ = ["Job", "JobOptions", "JobQueue", "MakeDeblurrer", "safe_display_name"]

Status = Literal["queued", "running", "done", "failed", "cancelled"]


@dataclasses.dataclass
class Job:
    """One uploaded file and what became of it.

    ``error`` is what the page says (what happened, what to do); ``error_detail`` the
    error as the command line would print it, shown as a detail.
    """

    id: str
    name: str
    source: Path
    options: JobOptions
    owner: str | None = None
    kind: Literal["image", "animation", "video"] = "image"
    status: Status = "queued"
    progress: Progress = dataclasses.field(default_factory=Progress)
    error: str | None = None
    error_detail: str | None = None
    note: str | None = None
    decision: str | None = None
    result: Path | None = None
    previews: tuple[Path, Path] | None = None
    cancel_requested: bool = False

    def public(self) -> dict:
        """What the page sees (no server paths); ``download_name`` only for a finished job."""
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "status": self.status,
            "cancelling": self.cancel_requested and self.status == "running",
            **self.progress.public(done=self.status == "done"),
            "error": self.error,
            "error_detail": self.error_detail,
            "note": self.note,
            "decision": self.decision,
            "found": outcome_words(self.decision, self.note),
            "options": dataclasses.asdict(self.options),
            "download_name": self.download_name() if self.status == "done" else None,
            "has_previews": self.previews is not None,
        }

    def download_name(self) -> str:
        """The name the result is downloaded as: the upload's stem with ``_sharp`` (and
        ``.jpg`` for an iPhone photo, whose HEIC is read but not written)."""
        stem, suffix = Path(self.name).stem, Path(self.name).suffix.lower()
        return f"{stem}_sharp{output_suffix(suffix)}"


def safe_display_name(name: str | None) -> str:
    """The client's file name reduced to something printable, for display only."""
    base = Path((name or "upload").replace("\\", "/")).name
    cleaned = "".join(c for c in base if c.isprintable() and c not in '<>:"/\\|?*')
    return cleaned[:200] or "upload"


class JobQueue:
    """Runs deblurring jobs one at a time in a background thread.

    Args:
        make_deblurrer: Builds the model for a job's options and a stage callback (called
            only when the options differ from the previous job's); picklable if ``isolate``.
        max_pixels: Images above this are refused with a message.
        workdir: Parent of the private temporary folder (default: the system's).
        isolate: Run the jobs in a child process that a cancel can stop at any moment
            (see the module's text); else in the queue's thread.
    """

    def __init__(
        self,
        make_deblurrer: MakeDeblurrer,
        max_pixels: int | None = DEFAULT_MAX_PIXELS,
        workdir: Path | None = None,
        isolate: bool = False,
    ) -> None:
        self.make_deblurrer, self.max_pixels = make_deblurrer, max_pixels
        runner = WorkerProcess if isolate else JobRunner
        self._runner: JobRunner | WorkerProcess = runner(make_deblurrer, max_pixels)
        self.folder = Path(tempfile.mkdtemp(prefix="deblurgan-serve-", dir=workdir))
        self._jobs: dict[str, Job] = {}
        self._order = itertools.count()
        self._ready = threading.Condition()
        self._closed = False
        self._speeds: dict[JobOptions, dict[Route, Speed]] = {}  # the network's, measured
        self._worker = threading.Thread(target=self._run, name="deblurgan-jobs", daemon=True)
        self._worker.start()

    def new_upload_path(self, name: str) -> Path:
        """A fresh path in the private folder with the upload's suffix (if it is a media one)."""
        suffix = Path(name).suffix.lower() if is_media(Path(name)) else ""
        return self.folder / f"{secrets.token_hex(8)}{suffix}"

    def submit(self, name: str, upload: Path, options: JobOptions, owner: str | None = None) -> Job:
        """Queue ``upload`` (already in :attr:`folder`) under the display ``name``."""
        job = Job(
            id=f"{next(self._order):05d}-{secrets.token_hex(4)}",
            name=name,
            source=upload,
            options=options,
            owner=owner,
        )
        if not is_media(upload):
            suffix = Path(name).suffix.lower()
            job.status, job.error = "failed", unsupported(suffix)
            job.error_detail = f"unsupported format {suffix or '(none)'}"
            _discard(upload)
        elif is_video(upload):
            job.kind = "video"
        with self._ready:
            self._jobs[job.id] = job
            self._ready.notify()
        return job

    def get(self, job_id: str) -> Job | None:
        """The job with this id, or None."""
        with self._ready:
            return self._jobs.get(job_id)

    def jobs(self) -> list[Job]:
        """Every job, oldest first."""
        with self._ready:
            return list(self._jobs.values())

    def cancel(self, job_id: str) -> bool:
        """Cancel a queued or running job; False if there is no such job or it has ended."""
        with self._ready:
            job = self._jobs.get(job_id)
            if job is None or job.status not in ("queued", "running"):
                return False
            job.cancel_requested = True
            if job.status == "queued":
                self._finish(job, "cancelled")
            return True

    def remove(self, job_id: str) -> bool:
        """Forget a job and delete its files (cancelling it first if needed)."""
        self.cancel(job_id)
        with self._ready:
            job = self._jobs.pop(job_id, None)
        if job is None:
            return False
        if job.status != "running":
            self._delete_files(job)
        return True

    def close(self) -> None:
        """Stop the worker and delete every file the queue made."""
        with self._ready:
            self._closed = True
            for job in self._jobs.values():
                job.cancel_requested = True
            self._ready.notify_all()
        self._worker.join(timeout=30)
        if isinstance(self._runner, WorkerProcess):
            self._runner.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _run(self) -> None:
        while True:
            with self._ready:
                self._ready.wait_for(lambda: self._closed or self._next() is not None)
                if self._closed:
                    return
                job = self._next()
                job.status = "running"
                job.progress.started = time.monotonic()
            detail = None
            try:
                self._process(job)
                status = "done"
            except Cancelled:
                status = "cancelled"
            except JobFailed as err:
                status, detail = "failed", str(err)
            except Exception as err:  # noqa: BLE001 - reported on the page; the queue goes on
                status, detail = "failed", str(err) or type(err).__name__
            with self._ready:
                if job.cancel_requested and status == "done":
                    status = "cancelled"
                if detail is not None:
                    job.error_detail = detail.replace(str(job.source), job.name)
                    stopped = "the deblurring process stopped" in detail
                    job.error = STOPPED if stopped else plain_error(job.error_detail)
                self._finish(job, status)
                if job.id not in self._jobs:  # removed while running
                    self._delete_files(job)

    def _next(self) -> Job | None:
        return next((j for j in self._jobs.values() if j.status == "queued"), None)

    def _finish(self, job: Job, status: Status) -> None:
        if job.progress.started is not None:
            job.progress.ended = time.monotonic()
        if status != "done":
            _discard(job.result, *(job.previews or ()))
            job.result, job.previews = None, None
        _discard(job.source)  # uploads are deleted once their job has run
        # the status last: a reader that sees the job finished (the page, without the lock)
        # sees its files settled too
        job.status = status
        self._ready.notify_all()

    def _delete_files(self, job: Job) -> None:
        _discard(job.source, job.result, *(job.previews or ()))

    def _process(self, job: Job) -> None:
        suffix = output_suffix(job.source.suffix)
        job.result = self.folder / f"{job.id}-result{suffix}"  # deleted if it fails
        request = JobRequest(
            job.source,
            job.result,
            (self.folder / f"{job.id}-before.jpg", self.folder / f"{job.id}-after.jpg"),
            job.options,
            self._speeds.get(job.options, {}),
        )
        outcome = self._runner.run(request, job.progress, lambda: job.cancel_requested)
        job.kind, job.previews = outcome.kind, outcome.previews
        job.note, job.decision = outcome.note, outcome.decision
        if outcome.speeds:
            self._speeds[job.options] = outcome.speeds


def _discard(*paths: Path | None) -> None:
    """Delete the files that exist of ``paths`` (None: skipped). One that cannot be deleted
    (a permission changed under the server) is left for :meth:`JobQueue.close`, which
    removes the queue's whole folder: the queue goes on with the next job either way."""
    for path in paths:
        if path is not None:
            with contextlib.suppress(OSError):  # a missing file too
                path.unlink()
