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
What a job does, and how its progress is counted, is in :mod:`deblurgan.serve.work`.
"""

from __future__ import annotations

import dataclasses
import itertools
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from deblurgan.io.images import DEFAULT_MAX_PIXELS
from deblurgan.io.media import is_media, is_video
from deblurgan.serve.work import Cancelled, DeblurFn, Progress, deblur_upload, measure_speed

Status = Literal["queued", "running", "done", "failed", "cancelled"]
MakeDeblurrer = Callable[["JobOptions"], DeblurFn]
# Methods whose time grows with the pixels, so that a photo's time can be estimated from the
# last measured speed. Blind deconvolution's depends mostly on its kernel estimate: its photos
# show the elapsed time and a moving bar without a fraction.
ESTIMATED_METHODS = ("network",)


@dataclasses.dataclass(frozen=True)
class JobOptions:
    """What a user picks on the page; ``model`` is a name given at start-up, never a path;
    ``method`` a name of :data:`deblurgan.methods.METHODS`."""

    method: str = "network"
    model: str = "bundled"
    precision: str = "fp32"
    tile: int | None = None


@dataclasses.dataclass
class Job:
    """One uploaded file and what became of it."""

    id: str
    name: str
    source: Path
    options: JobOptions
    owner: str | None = None
    kind: Literal["image", "animation", "video"] = "image"
    status: Status = "queued"
    progress: Progress = dataclasses.field(default_factory=Progress)
    error: str | None = None
    note: str | None = None
    result: Path | None = None
    previews: tuple[Path, Path] | None = None
    cancel_requested: bool = False

    def public(self) -> dict:
        """What the page sees (no server paths)."""
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "status": self.status,
            **self.progress.public(done=self.status == "done"),
            "error": self.error,
            "note": self.note,
            "options": dataclasses.asdict(self.options),
            "download_name": self.download_name(),
            "has_previews": self.previews is not None,
        }

    def download_name(self) -> str:
        """The name the result is downloaded as: the upload's stem with ``_sharp``."""
        stem, suffix = Path(self.name).stem, Path(self.name).suffix.lower()
        return f"{stem}_sharp{suffix}"


def safe_display_name(name: str | None) -> str:
    """The client's file name reduced to something printable, for display only."""
    base = Path((name or "upload").replace("\\", "/")).name
    cleaned = "".join(c for c in base if c.isprintable() and c not in '<>:"/\\|?*')
    return cleaned[:200] or "upload"


class JobQueue:
    """Runs deblurring jobs one at a time in a background thread.

    Args:
        make_deblurrer: Builds the model for a job's options (called only when the
            options differ from the previous job's).
        max_pixels: Images above this are refused with a message.
        workdir: Parent of the private temporary folder (default: the system's).
    """

    def __init__(
        self,
        make_deblurrer: MakeDeblurrer,
        max_pixels: int | None = DEFAULT_MAX_PIXELS,
        workdir: Path | None = None,
    ) -> None:
        self.make_deblurrer, self.max_pixels = make_deblurrer, max_pixels
        self.folder = Path(tempfile.mkdtemp(prefix="deblurgan-serve-", dir=workdir))
        self._jobs: dict[str, Job] = {}
        self._order = itertools.count()
        self._ready = threading.Condition()
        self._closed = False
        self._model: tuple[JobOptions, DeblurFn] | None = None
        self._speeds: dict[JobOptions, float] = {}  # pixels per second, last measured
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
            job.status, job.error = "failed", f"unsupported format {Path(name).suffix or '(none)'}"
            upload.unlink(missing_ok=True)
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
            try:
                self._process(job)
                status, error = "done", None
            except Cancelled:
                status, error = "cancelled", None
            except Exception as err:  # noqa: BLE001 - reported on the page; the queue goes on
                status, error = "failed", str(err).replace(str(job.source), job.name)
            with self._ready:
                if job.cancel_requested and status == "done":
                    status = "cancelled"
                job.error = error
                self._finish(job, status)
                if job.id not in self._jobs:  # removed while running
                    self._delete_files(job)

    def _next(self) -> Job | None:
        return next((j for j in self._jobs.values() if j.status == "queued"), None)

    def _finish(self, job: Job, status: Status) -> None:
        job.status = status
        if job.progress.started is not None:
            job.progress.ended = time.monotonic()
        if status != "done":
            for path in (job.result, *(job.previews or ())):
                if path is not None:
                    path.unlink(missing_ok=True)
            job.result, job.previews = None, None
        job.source.unlink(missing_ok=True)  # uploads are deleted once their job has run
        self._ready.notify_all()

    def _delete_files(self, job: Job) -> None:
        for path in (job.source, job.result, *(job.previews or ())):
            if path is not None:
                path.unlink(missing_ok=True)

    def _deblurrer(self, options: JobOptions) -> DeblurFn:
        if self._model is None or self._model[0] != options:
            self._model = None  # free the old model before building the next
            self._model = (options, self.make_deblurrer(options))
            estimated = options.method in ESTIMATED_METHODS
            if estimated and options not in self._speeds:  # the first photo's estimate
                self._speeds[options] = measure_speed(self._model[1])
        return self._model[1]

    def _process(self, job: Job) -> None:
        deblurrer = self._deblurrer(job.options)
        job.result = self.folder / f"{job.id}-result{job.source.suffix}"  # deleted if it fails
        outcome = deblur_upload(
            deblurrer,
            job.source,
            job.result,
            job.progress,
            self._speeds.get(job.options) if job.options.method in ESTIMATED_METHODS else None,
            self.max_pixels,
            cancelled=lambda: job.cancel_requested,
            previews=(self.folder / f"{job.id}-before.jpg", self.folder / f"{job.id}-after.jpg"),
        )
        job.kind, job.previews, job.note = outcome.kind, outcome.previews, outcome.note
        if outcome.speed is not None and job.options.method in ESTIMATED_METHODS:
            self._speeds[job.options] = outcome.speed
