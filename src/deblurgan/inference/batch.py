"""Deblurring many files: finding inputs, naming outputs, and surviving bad files.

Rules: an input is never overwritten; an existing output is skipped unless
``overwrite``; every output is written atomically; a file that fails is
reported with its cause and the batch moves on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np
from tqdm import tqdm

from deblurgan.io.background import OrderedWriter, prefetch
from deblurgan.io.images import ImageData, read_image, write_image
from deblurgan.io.report import BatchReport
from deblurgan.io.video import VIDEO_SUFFIXES, probe_video, read_frames, video_writer

DeblurFn = Callable[[np.ndarray], np.ndarray]


@dataclasses.dataclass(frozen=True)
class Job:
    """One input file and the output it becomes."""

    source: Path
    target: Path


def plan_jobs(
    inputs: list[tuple[Path, Path]],
    out_dir: Path,
    suffix: str = "",
    ext: str | None = None,
) -> tuple[list[Job], BatchReport]:
    """Name each output and refuse what must not run (input overwrites, collisions).

    The result depends only on the arguments, never on which outputs exist yet,
    so processes sharing a batch (``jobs[rank::world]``) agree on it; existing
    outputs are skipped when a job runs.

    Args:
        inputs: From :func:`collect_inputs`.
        out_dir: Folder receiving the outputs.
        suffix: Appended to each output's stem (``photo.jpg`` -> ``photo_sharp.jpg``).
        ext: Output image format (e.g. ``.png``); videos keep their container.

    Returns:
        The jobs and a report already holding the refused files.
    """
    if ext is not None and not ext.startswith("."):
        ext = "." + ext
    report = BatchReport()
    sources = {p.resolve() for p, _ in inputs}
    claimed: dict[Path, Path] = {}
    jobs: list[Job] = []
    for source, name in inputs:
        out_ext = source.suffix if ext is None or source.suffix.lower() in VIDEO_SUFFIXES else ext
        target = out_dir / name.parent / f"{name.stem}{suffix}{out_ext}"
        resolved = target.resolve()
        if resolved in sources:
            report.failed.append(
                (
                    str(source),
                    f"output {target} would overwrite an input; "
                    "choose another -o folder or a --suffix",
                )
            )
        elif resolved in claimed:
            report.failed.append(
                (str(source), f"output {target} is also the output of {claimed[resolved]}")
            )
        else:
            claimed[resolved] = source
            jobs.append(Job(source, target))
    return jobs, report


def run_jobs(
    jobs: list[Job],
    deblur: DeblurFn,
    report: BatchReport,
    overwrite: bool = False,
    progress: bool = True,
    batch: int = 1,
) -> BatchReport:
    """Deblur every job's source into its target, recording each outcome in ``report``.

    An existing target is skipped unless ``overwrite`` (inputs were already
    excluded as targets by :func:`plan_jobs`). The next images are read, and the
    previous one written, in background threads while one is deblurred.

    Args:
        batch: Video frames deblurred together (``deblur`` must then accept
            ``(N, H, W, 3)`` stacks, as :class:`~deblurgan.inference.Deblurrer` does).
    """
    todo = []
    for job in jobs:
        if job.target.exists() and not overwrite:
            report.skipped.append(job.target)
        else:
            todo.append(job)
    bar = tqdm(total=len(todo), desc="deblurring", unit="file", disable=not progress or not todo)

    def outcome(job: Job) -> Callable[[BaseException | None], None]:
        def record(err: BaseException | None) -> None:
            if err is None:
                report.written.append(job.target)
            else:
                cause = _describe(err).removeprefix(f"{job.source}: ")
                report.failed.append((str(job.source), cause))
            bar.update()

        return record

    with OrderedWriter() as writer:
        for job, image, err in prefetch(map(_read, todo)):
            if err is None and image is None:  # a video, decoded and encoded as it goes
                writer.settle()
                try:
                    deblur_video_file(deblur, job.source, job.target, progress, batch)
                except Exception as video_err:  # noqa: BLE001 - one bad file must not stop the batch
                    err = video_err
                outcome(job)(err)
                continue
            if err is None:
                try:
                    restored = image.with_rgb(deblur(image.rgb))
                except Exception as deblur_err:  # noqa: BLE001
                    err = deblur_err
            if err is not None:
                writer.settle()  # keep the report in input order
                outcome(job)(err)
                continue
            writer.submit(write_image, job.target, restored, done=outcome(job))
    bar.close()
    return report


def deblur_video_file(
    deblur: DeblurFn, source: Path, target: Path, progress: bool = True, batch: int = 1
) -> None:
    """Deblur a video into a file with the same frame rate and size, ``batch`` frames at a
    time, decoding ahead and encoding behind in background threads."""
    info = probe_video(source)
    bar = tqdm(total=info.frames, desc=source.name, unit="frame", leave=False, disable=not progress)
    with video_writer(target, info) as write, OrderedWriter() as writer:
        for frames in prefetch(_stacks(read_frames(source), batch)):
            restored = deblur(frames[0] if batch == 1 else frames)
            writer.submit(_write_frames, write, restored.reshape(-1, *frames.shape[1:]))
            bar.update(len(frames))
    bar.close()


def _read(job: Job) -> tuple[Job, ImageData | None, Exception | None]:
    """Read an image job's input (videos are read later, frame by frame)."""
    if job.source.suffix.lower() in VIDEO_SUFFIXES:
        return job, None, None
    try:
        return job, read_image(job.source), None
    except Exception as err:  # noqa: BLE001 - reported against this file
        return job, None, err


def _stacks(frames: Iterable[np.ndarray], size: int) -> Iterator[np.ndarray]:
    """Consecutive frames as float32 ``(N, H, W, 3)`` stacks in [0, 1], ``N <= size``."""
    stack = []
    for frame in frames:
        stack.append(frame)
        if len(stack) == size:
            yield np.stack(stack).astype(np.float32) / 255.0
            stack = []
    if stack:
        yield np.stack(stack).astype(np.float32) / 255.0


def _write_frames(write: Callable[[np.ndarray], None], restored: np.ndarray) -> None:
    for frame in restored:
        write(np.clip(np.rint(frame * 255.0), 0, 255).astype(np.uint8))


def _describe(err: Exception) -> str:
    if isinstance(err, ValueError):  # our read/write errors already name the file
        return str(err)
    if isinstance(err, OSError) and err.strerror:
        return f"{err.strerror} ({err.filename or ''})".replace(" ()", "")
    return f"{type(err).__name__}: {err}"
