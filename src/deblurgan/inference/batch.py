"""Deblurring many files: finding inputs, naming outputs, and surviving bad files.

Rules: an input is never overwritten; an existing output is skipped unless
``overwrite``; every output is written atomically; a file that fails is
reported with its cause and the batch moves on.
"""

from __future__ import annotations

import dataclasses
import glob
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
from tqdm import tqdm

from deblurgan.io.images import IMAGE_SUFFIXES, read_image, write_image
from deblurgan.io.report import BatchReport
from deblurgan.io.video import VIDEO_SUFFIXES, probe_video, read_frames, video_writer

MEDIA_SUFFIXES = IMAGE_SUFFIXES | VIDEO_SUFFIXES
DeblurFn = Callable[[np.ndarray], np.ndarray]


@dataclasses.dataclass(frozen=True)
class Job:
    """One input file and the output it becomes."""

    source: Path
    target: Path


def collect_inputs(
    specs: Iterable[str], recursive: bool = False
) -> tuple[list[tuple[Path, Path]], list[tuple[str, str]]]:
    """Expand files, folders and glob patterns into ``(path, name under -o)`` pairs.

    A folder contributes its entries with image or video suffixes (all levels
    with ``recursive``), named relative to the folder, so the output tree
    mirrors the input tree. Entries are sorted, duplicates dropped.

    Returns:
        The inputs, and ``(spec, cause)`` for specs that match nothing.
    """
    found: dict[Path, Path] = {}
    missing: list[tuple[str, str]] = []
    for spec in specs:
        path = Path(spec)
        if path.is_dir():
            entries = _folder_entries(path, recursive)
            if not entries:
                missing.append((spec, "folder contains no image or video files"))
            for entry in entries:
                found.setdefault(entry, entry.relative_to(path))
        elif path.exists() or path.is_symlink():
            found.setdefault(path, Path(path.name))
        elif glob.has_magic(spec):
            matches = sorted(glob.glob(spec, recursive=recursive))
            if not matches:
                missing.append((spec, "pattern matches no file"))
            for match in matches:
                found.setdefault(Path(match), Path(Path(match).name))
        else:
            missing.append((spec, "no such file or folder"))
    return list(found.items()), missing


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
) -> BatchReport:
    """Deblur every job's source into its target, recording each outcome in ``report``.

    An existing target is skipped unless ``overwrite`` (inputs were already
    excluded as targets by :func:`plan_jobs`).
    """
    for job in tqdm(jobs, desc="deblurring", unit="file", disable=not progress or not jobs):
        if job.target.exists() and not overwrite:
            report.skipped.append(job.target)
            continue
        try:
            if job.source.suffix.lower() in VIDEO_SUFFIXES:
                deblur_video_file(deblur, job.source, job.target, progress)
            else:
                deblur_image_file(deblur, job.source, job.target)
        except Exception as err:  # noqa: BLE001 - one bad file must not stop the batch
            report.failed.append((str(job.source), _describe(err).removeprefix(f"{job.source}: ")))
        else:
            report.written.append(job.target)
    return report


def deblur_image_file(deblur: DeblurFn, source: Path, target: Path) -> None:
    """Read, deblur and atomically write one image, keeping alpha, gray and depth."""
    image = read_image(source)
    write_image(target, image.with_rgb(deblur(image.rgb)))


def deblur_video_file(deblur: DeblurFn, source: Path, target: Path, progress: bool = True) -> None:
    """Deblur a video frame by frame into a file with the same frame rate and size."""
    info = probe_video(source)
    with video_writer(target, info) as write:
        frames = tqdm(
            read_frames(source),
            total=info.frames,
            desc=source.name,
            unit="frame",
            leave=False,
            disable=not progress,
        )
        for frame in frames:
            restored = deblur(frame.astype(np.float32) / 255.0)
            write(np.clip(np.rint(restored * 255.0), 0, 255).astype(np.uint8))


def _folder_entries(folder: Path, recursive: bool) -> list[Path]:
    candidates = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(
        p
        for p in candidates
        if p.suffix.lower() in MEDIA_SUFFIXES
        and not p.name.startswith(".")
        and not any(part.startswith(".") for part in p.relative_to(folder).parts[:-1])
    )


def _describe(err: Exception) -> str:
    if isinstance(err, ValueError):  # our read/write errors already name the file
        return str(err)
    if isinstance(err, OSError) and err.strerror:
        return f"{err.strerror} ({err.filename or ''})".replace(" ()", "")
    return f"{type(err).__name__}: {err}"
