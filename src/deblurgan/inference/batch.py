"""Deblurring many files: finding inputs, naming outputs, and surviving bad files.

Rules: an input is never overwritten; an existing output is skipped unless
``overwrite``, including one that another run creates while this one works (the
final name is created exclusively); a file named like an output of this batch
(``photo_sharp.jpg`` beside ``photo.jpg`` with ``--suffix _sharp``, or the kernel
file ``photo_sharp.kernel.png`` of ``--save-kernel``) is never an input; the output
folder is checked for writing before anything is deblurred; every output is
written atomically, and temp files of killed runs are removed; a file that
fails (unreadable, a link loop, too large) is reported with its cause and the
batch moves on. Animated images are deblurred frame by frame; given ``per_video`` (the
command line gives :func:`deblurgan.methods.video.for_video`: with ``l0`` and ``auto`` one
decision per shot, kernels smooth in time) each video or animation gets its own state, and
the summary says each shot's decision.

Kernel files (``--save-kernel``) follow the same rules: ``OUTPUT_STEM.kernel.png``
beside the output, or ``OUTPUT_NAME.kernel.png`` (``a.png.kernel.png``) for outputs
whose stems clash (``a.png`` and ``a.tif``); never replaced without ``overwrite``.
"""

from __future__ import annotations

import dataclasses
import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
from tqdm import tqdm

from deblurgan.io.atomic import atomic_copy, remove_stale_temp_files
from deblurgan.io.background import OrderedWriter, prefetch
from deblurgan.io.formats import WRITABLE_IMAGE_SUFFIXES, output_suffix
from deblurgan.io.images import DEFAULT_MAX_PIXELS, ImageData, read_image, write_image
from deblurgan.io.media import (
    FrameFn,
    MediaKind,
    deblur_animation_file,
    deblur_video_file,
    is_video,
    media_kind,
)
from deblurgan.io.report import BatchReport
from deblurgan.restoration import DeblurMethod


@dataclasses.dataclass(frozen=True)
class Job:
    """One input file, the output it becomes, and where its kernel goes (``--save-kernel``;
    named by :func:`plan_jobs`, None where no name is free)."""

    source: Path
    target: Path
    kernel: Path | None = dataclasses.field(default=None, compare=False)


def check_suffix(suffix: str) -> str:
    """``suffix`` if it only extends a file name: no path separator, ``..`` or NUL.

    Raises:
        ValueError: Naming the suffix and what is wrong with it.
    """
    separators = {"/", os.sep, os.altsep} - {None}
    if any(sep in suffix for sep in separators) or ".." in suffix or "\0" in suffix:
        raise ValueError(
            f"suffix {suffix!r} must not contain a path separator, '..' or NUL: it is appended "
            "to file names, and outputs stay in the output folder"
        )
    return suffix


def check_output_ext(ext: str | None) -> str | None:
    """An output image format as a suffix: ``png`` and ``.png`` give ``.png``; None stays None.

    Raises:
        ValueError: The format is not one of the image formats that can be written.
    """
    if ext is None:
        return None
    normal = ext if ext.startswith(".") else "." + ext
    if normal.lower() not in WRITABLE_IMAGE_SUFFIXES:
        raise ValueError(
            f"unknown image format {ext!r} for outputs; use one of "
            f"{', '.join(sorted(WRITABLE_IMAGE_SUFFIXES))}"
        )
    return normal


def plan_jobs(
    inputs: list[tuple[Path, Path]],
    out_dir: Path,
    suffix: str = "",
    ext: str | None = None,
) -> tuple[list[Job], BatchReport]:
    """Name each output and refuse what must not run (input overwrites, collisions).

    With a ``suffix``, an input that is the output of another input under this
    naming (a previous run's ``photo_sharp.jpg`` when ``-o`` is the input
    folder) is left out, so outputs are never deblurred again; without one, an
    output that is an input is refused. An input where another input's kernel file
    goes (:func:`kernel_path`, an earlier ``--save-kernel`` run's) is left out too. The
    output folder is never an input: an input found inside it while walking a folder
    (or pattern) that contains it (``deblurgan deblur shots -r -o shots/out``) is left
    out. An input whose path cannot be resolved (a symbolic link loop) is reported as
    failed. The result
    depends only on the arguments, never on which outputs exist yet, so
    processes sharing a batch (``jobs[rank::world]``) agree on it; existing
    outputs are skipped when a job runs.

    Args:
        inputs: From :func:`collect_inputs`: each path and its name under ``out_dir``.
        out_dir: Folder receiving the outputs.
        suffix: Appended to each output's stem (``photo.jpg`` -> ``photo_sharp.jpg``).
        ext: Output image format (e.g. ``.png``); videos keep their container.

    Returns:
        The jobs and a report already holding the refused files.

    Raises:
        ValueError: ``suffix`` could leave the output folder, or ``ext`` is no image format.
    """
    suffix, ext = check_suffix(suffix), check_output_ext(ext)
    report = BatchReport()
    out_resolved = out_dir.resolve()
    planned: list[tuple[Path, Path, Path, Path]] = []  # source, resolved, target, resolved
    for source, name in inputs:
        if name.is_absolute() or ".." in name.parts:
            report.failed.append((str(source), f"output name {name} would leave the output folder"))
            continue
        out_ext = output_suffix(source.suffix) if ext is None or is_video(source) else ext
        target = out_dir / name.parent / f"{name.stem}{suffix}{out_ext}"
        try:
            if _inside_walked_output(source, name, out_resolved):
                continue  # an earlier output of this batch, found by walking its folder
            planned.append((source, source.resolve(), target, target.resolve()))
        except (OSError, RuntimeError) as err:  # RuntimeError: a symbolic link loop
            report.failed.append((str(source), f"cannot resolve the path ({err})"))
    if suffix:  # an input named like another input's output is an earlier run's output
        outputs = {resolved_target: resolved for _, resolved, _, resolved_target in planned}
        planned = [plan for plan in planned if outputs.get(plan[1], plan[1]) == plan[1]]
    kernels = {  # where kernel files of this batch's outputs go, under either name
        kernel: resolved
        for _, resolved, _, resolved_target in planned
        for kernel in (kernel_path(resolved_target), kernel_path(resolved_target, clash=True))
    }
    planned = [plan for plan in planned if kernels.get(plan[1], plan[1]) == plan[1]]
    sources = {resolved for _, resolved, _, _ in planned}
    claimed: dict[Path, Path] = {}
    jobs: list[Job] = []
    for source, _, target, resolved_target in planned:
        if resolved_target in sources:
            report.failed.append(
                (
                    str(source),
                    f"output {target} would overwrite an input; "
                    "choose another -o folder or a --suffix",
                )
            )
        elif resolved_target in claimed:
            report.failed.append(
                (str(source), f"output {target} is also the output of {claimed[resolved_target]}")
            )
        else:
            claimed[resolved_target] = source
            jobs.append(Job(source, target))
    return _name_kernels(jobs), report


def _name_kernels(jobs: list[Job]) -> list[Job]:
    """Each job with its kernel file: ``STEM.kernel.png``, or ``NAME.kernel.png`` for
    outputs whose stems clash; None where the name is an input, an output, or (rarer
    still) another job's kernel."""
    stems = Counter(kernel_path(job.target).resolve() for job in jobs)
    taken = {path.resolve() for job in jobs for path in (job.source, job.target)}
    named = []
    for job in jobs:
        kernel = kernel_path(job.target, clash=stems[kernel_path(job.target).resolve()] > 1)
        if kernel.resolve() in taken:
            kernel = None
        else:
            taken.add(kernel.resolve())
        named.append(dataclasses.replace(job, kernel=kernel))
    return named


def _inside_walked_output(source: Path, name: Path, out_resolved: Path) -> bool:
    """Whether a folder between the walked root (``source`` less ``name``) and ``source``
    is the output folder."""
    root = Path(*source.parts[: len(source.parts) - len(name.parts)])
    folder = root
    for part in name.parts[:-1]:
        folder = folder / part
        if folder.resolve() == out_resolved:
            return True
    return False


def run_jobs(
    jobs: list[Job],
    method: DeblurMethod,
    report: BatchReport,
    overwrite: bool = False,
    progress: bool = True,
    batch: int = 1,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    save_kernel: bool = False,
    per_video: Callable[[DeblurMethod], FrameFn] | None = None,
) -> BatchReport:
    """Deblur every job's source into its target, recording each outcome in ``report``.

    An existing target is skipped unless ``overwrite`` (inputs were already
    excluded as targets by :func:`plan_jobs`). The next images are read, and the
    previous one written, in background threads while one is deblurred. Temp
    files left in the output folders by killed runs are removed first.

    Args:
        method: The deblurring method (:func:`deblurgan.methods.build_method`); what it
            notes about an image (e.g. no blur found) goes into ``report.notes``.
        batch: Video frames deblurred together (passed to ``method`` as stacks).
        max_pixels: Larger images are refused (None: no limit).
        save_kernel: Also write the kernel a method estimated for an image as its job's
            ``kernel`` (never over an input or another output, nor over an existing file
            without ``overwrite``; a kernel that cannot be written is a note, not a failure).
        per_video: Gives what one video's or animation's frames go through, called afresh
            for each file (e.g. :func:`deblurgan.methods.video.for_video`: one decision per
            shot); its ``decisions()``, where it has one, go into ``report.decisions``.
            None: ``method`` itself, frame by frame.

    An output that appears while its image is deblurred (another run writing into the
    same folder) is kept unless ``overwrite``, and the job counted as skipped.
    """
    for folder in {job.target.parent for job in jobs}:
        remove_stale_temp_files(folder)
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
            elif isinstance(err, FileExistsError) and not overwrite:  # another run's, meanwhile
                report.skipped.append(job.target)
            else:
                cause = _describe(err).removeprefix(f"{job.source}: ")
                report.failed.append((str(job.source), cause))
            bar.update()

        return record

    def kernel_note(job: Job) -> Callable[[BaseException | None], None]:
        def record(err: BaseException | None) -> None:
            if isinstance(err, FileExistsError) and not overwrite:
                note = f"kernel not saved: {job.kernel} exists (--overwrite replaces it)"
                report.notes.append((str(job.source), note))
            elif err is not None:  # the deblurred image may still be written: a note
                cause = _describe(err).removeprefix(f"{job.kernel}: ")
                report.notes.append((str(job.source), f"kernel not saved: {cause}"))

        return record

    def read(job: Job) -> tuple[Job, MediaKind, ImageData | None, Exception | None]:
        """A job's kind, and an image job's input (sequences are read while deblurred)."""
        kind: MediaKind = "image"
        try:
            kind = media_kind(job.source)
            image = read_image(job.source, max_pixels) if kind == "image" else None
            return job, kind, image, None
        except Exception as err:  # noqa: BLE001 - reported against this file
            return job, kind, None, err

    with OrderedWriter() as writer:
        for job, kind, image, err in prefetch(map(read, todo)):
            if err is None and kind != "image":  # a sequence, decoded and encoded as it goes
                writer.settle()
                frames = per_video(method) if per_video is not None else method  # fresh per file
                try:
                    if kind == "video":
                        deblur_video_file(
                            frames, job.source, job.target, progress, batch, overwrite
                        )
                    else:
                        deblur_animation_file(frames, job.source, job.target, max_pixels, overwrite)
                except Exception as sequence_err:  # noqa: BLE001 - one bad file must not stop the batch
                    err = sequence_err
                shots = getattr(frames, "decisions", None)
                if err is None and shots is not None:
                    report.decisions += [(str(job.source), shot) for shot in shots()]
                outcome(job)(err)
                continue
            if err is None:
                try:
                    restoration = method.restore(image.rgb)
                    restored = image.with_rgb(restoration.rgb)
                except Exception as deblur_err:  # noqa: BLE001
                    err = deblur_err
            if err is not None:
                writer.settle()  # keep the report in input order
                outcome(job)(err)
                continue
            for note in (image.note, restoration.note):
                if note:
                    report.notes.append((str(job.source), note))
            if restoration.decision:
                report.decisions.append((str(job.source), restoration.decision))
            if save_kernel and restoration.kernel is not None:
                if job.kernel is None:
                    note = "kernel not saved: its name is taken by an input or an output"
                    report.notes.append((str(job.source), note))
                else:
                    picture = kernel_picture(restoration.kernel)
                    write = (job.kernel, picture, 95, overwrite)
                    writer.submit(write_image, *write, done=kernel_note(job))
            if copies_input(job, image, restoration.rgb):
                writer.submit(atomic_copy, job.source, job.target, overwrite, done=outcome(job))
            else:
                write = (job.target, restored, 95, overwrite)
                writer.submit(write_image, *write, done=outcome(job))
    bar.close()
    return report


def copies_input(job: Job, image: ImageData, rgb: np.ndarray) -> bool:
    """Whether ``job``'s output is its input file, byte for byte, rather than ``rgb``
    encoded: the method returned the pixels it was given (``auto``: no blur found), the
    output has the input's suffix, and reading changed nothing that writing would keep
    (no EXIF orientation applied, no later TIFF pages left out). Encoding again would
    change a JPEG's pixels (by up to 16 levels) and its size for nothing."""
    return (
        job.source.suffix.lower() == job.target.suffix.lower()
        and image.orientation == 1
        and image.note is None
        and np.array_equal(rgb, image.rgb)
    )


def kernel_path(target: Path, clash: bool = False) -> Path:
    """Where ``--save-kernel`` writes the kernel of the output ``target``.

    Args:
        clash: Another output of the batch has the same stem: name the kernel after the
            whole output name instead.

    Examples:
        >>> kernel_path(Path("out/photo.jpg")).as_posix()
        'out/photo.kernel.png'
        >>> kernel_path(Path("out/photo.jpg"), clash=True).as_posix()
        'out/photo.jpg.kernel.png'
    """
    return target.with_name(f"{target.name if clash else target.stem}.kernel.png")


def kernel_picture(kernel: np.ndarray) -> ImageData:
    """A kernel as a gray image, scaled so that its largest value is white."""
    gray = (kernel / max(float(kernel.max()), 1e-12)).astype(np.float32)
    return ImageData(rgb=np.repeat(gray[..., None], 3, axis=2), gray=True)


def _describe(err: Exception) -> str:
    if isinstance(err, ValueError):  # our read/write errors already name the file
        return str(err)
    if isinstance(err, OSError) and err.strerror:
        return f"{err.strerror} ({err.filename or ''})".replace(" ()", "")
    return f"{type(err).__name__}: {err}"
