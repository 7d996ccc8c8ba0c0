"""Building paired datasets on disk, in the GoPro layout.

Both builders write ``OUT/blur/NAME.png`` and ``OUT/sharp/NAME.png`` (same
names) plus ``OUT/manifest.jsonl`` (one JSON record per pair, enough to
regenerate it). Pairs blurred with a kernel also get ``OUT/kernels/NAME.npy``
(for use) and ``OUT/kernels/NAME.png`` (for viewing). Every file is written
atomically; finished pairs are skipped on a re-run with the same settings, and
a re-run with other settings is refused unless told to overwrite
(:mod:`deblurgan.data.manifest`); a bad input is reported and skipped; nothing
is ever written inside the input folder.
"""

from __future__ import annotations

import dataclasses
import io
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
from tqdm import tqdm

from deblurgan.blur.frames import FrameAveraging, average_frames, frame_windows
from deblurgan.data.manifest import check_settings, pair_files, read_manifest, write_manifest
from deblurgan.data.recipe import BlurSettings, synthetic_pair
from deblurgan.io.atomic import atomic_write_bytes, check_output_folder, remove_stale_temp_files
from deblurgan.io.images import ImageData, read_image, write_image
from deblurgan.io.media import is_image, is_video
from deblurgan.io.report import BatchReport
from deblurgan.io.video import probe_video, read_frames
from deblurgan.schema import plain


def synthesize_pairs(
    sources: list[tuple[Path, Path]],
    out: Path,
    settings: BlurSettings,
    per_image: int = 1,
    seed: int = 0,
    progress: bool = True,
    overwrite: bool = False,
) -> BatchReport:
    """Blur each sharp image ``per_image`` times by the random-blur recipe.

    Args:
        sources: ``(path, relative name)`` pairs, e.g. from
            :func:`deblurgan.data.pairs.collect_inputs`.
        out: Dataset root.
        settings: The recipe (modes, weights, parameters).
        per_image: Blurred versions of each sharp image.
        seed: Base seed; each pair's generator is seeded by (seed, image name, k).
        progress: Show a progress bar over the sharp images.
        overwrite: Make every pair again where ``out`` holds pairs of other settings, and
            remove the earlier pairs this run does not make.

    Raises:
        OtherSettingsError: ``out`` holds pairs made with other settings, without ``overwrite``.
    """
    if per_image < 1:
        raise ValueError(f"per_image must be >= 1, got {per_image}")
    _prepare_output(out, [path for path, _ in sources])
    paths = [path for path, _ in sources]
    run_settings = {"seed": seed, **settings.in_use()}
    earlier = _earlier_run(out, run_settings, overwrite)
    report, records = BatchReport(), []
    for index, (source, name) in enumerate(
        tqdm(sources, desc="synthesizing", unit="image", disable=not progress)
    ):
        stem = "__".join(name.with_suffix("").parts)
        image: ImageData | None = None
        for k in range(per_image):
            sample = f"{stem}_{k:03d}"
            pair_seed = [seed, zlib.crc32(name.as_posix().encode()), k]
            done = None if overwrite else earlier.get(f"{sample}.png")
            if (
                done is not None
                and done.get("seed") == pair_seed
                and all(
                    t.exists()
                    for t in pair_files(out, f"{sample}.png", kernels=done.get("mode") == "kernel")
                )
            ):
                records.append(done)
                report.skipped.append(out / "blur" / f"{sample}.png")
                continue
            rng = np.random.default_rng(pair_seed)
            try:
                image = image or _sharp_image(source)
                load_layers = _layer_loader(paths, index, settings, rng)
                pair = synthetic_pair(image.rgb, settings, rng, load_layers)
                targets = pair_files(out, f"{sample}.png", kernels=pair.kernel is not None)
                write_image(targets[1], image.with_rgb(pair.sharp))
                if pair.kernel is not None:
                    _write_kernel(targets[2], targets[3], pair.kernel)
                write_image(targets[0], image.with_rgb(pair.blurred))
            except Exception as err:  # noqa: BLE001 - one bad image must not stop the batch
                report.failed.append((str(source), str(err).removeprefix(f"{source}: ")))
                break
            records.append(
                {
                    "name": f"{sample}.png",
                    "source": str(source),
                    "k": k,
                    "seed": pair_seed,
                    **pair.record,
                    "settings": run_settings,
                }
            )
            report.written.append(targets[0])
    report.warnings += write_manifest(out, records, earlier, overwrite)
    return report


def synthesize_frame_pairs(
    frames_source: Path,
    out: Path,
    averaging: FrameAveraging | None = None,
    seed: int = 0,
    progress: bool = True,
    overwrite: bool = False,
) -> BatchReport:
    """Average windows of consecutive high-fps frames into real-blur pairs.

    Args:
        frames_source: A folder of frames (sorted by name) or a video file.
        out: Dataset root.
        averaging: Frames per window (drawn per window), frames skipped between
            windows, display gamma (the recipe's ``averaging``; default ``FrameAveraging()``).
        seed: Seed of the window lengths.
        progress: Show a progress bar over windows.
        overwrite: As for :func:`synthesize_pairs`.

    Raises:
        OtherSettingsError: ``out`` holds pairs made with other settings, without ``overwrite``.
    """
    frames_source = Path(frames_source)
    paths = _frame_paths(frames_source)
    # a video file cannot be written over: only frame folders need the inside-inputs check
    _prepare_output(out, [frames_source] if paths is not None else [])
    if paths is not None:
        n_frames = len(paths)
    else:
        n_frames = probe_video(frames_source).frames or sum(1 for _ in read_frames(frames_source))
    averaging = averaging or FrameAveraging()
    run_settings = {"seed": seed, "averaging": plain(averaging)}
    earlier = _earlier_run(out, run_settings, overwrite)
    gamma = averaging.gamma
    windows = frame_windows(n_frames, averaging.n_avg, np.random.default_rng(seed), averaging.gap)
    load = _frame_loader(frames_source, paths)
    report, records = BatchReport(), []
    for start, length in tqdm(windows, desc="averaging", unit="pair", disable=not progress):
        centre = start + length // 2
        label = paths[centre].stem if paths is not None else f"{centre:06d}"
        sample = f"{frames_source.stem}_{label}_n{length}"
        records.append(
            {
                "name": f"{sample}.png",
                "source": str(frames_source),
                "first_frame": start,
                "n_avg": length,
                "sharp_frame": centre,
                "gamma": gamma,
                "settings": run_settings,
            }
        )
        targets = pair_files(out, f"{sample}.png", kernels=False)
        if not overwrite and f"{sample}.png" in earlier and all(t.exists() for t in targets):
            report.skipped.append(targets[0])
            continue
        try:
            window = load(start, length)
            sharp = window[length // 2]
            write_image(targets[1], sharp)
            write_image(targets[0], sharp.with_rgb(average_frames([w.rgb for w in window], gamma)))
        except Exception as err:  # noqa: BLE001 - report and go on with the next window
            report.failed.append((sample, str(err)))
            records.pop()
            continue
        report.written.append(targets[0])
    report.warnings += write_manifest(out, records, earlier, overwrite)
    return report


def _earlier_run(out: Path, settings: dict, overwrite: bool) -> dict[str, dict]:
    """The earlier manifest's records, checked against this run's ``settings`` unless
    ``overwrite``."""
    earlier = read_manifest(out)
    if not overwrite:
        check_settings(out, earlier, settings)
    return earlier


def _layer_loader(
    paths: list[Path], index: int, settings: BlurSettings, rng: np.random.Generator
) -> Callable[[], tuple[np.ndarray, ...]] | None:
    """Reads another sharp image to cut moving layers from, when the scene mode can use one."""
    if not settings.uses_layers() or len(paths) < 2:
        return None
    other = paths[(index + 1 + int(rng.integers(len(paths) - 1))) % len(paths)]

    def load() -> tuple[np.ndarray, ...]:
        try:
            return (_sharp_image(other).rgb,)
        except ValueError:  # an unreadable neighbour: layers from the image itself
            return ()

    return load


def _sharp_image(source: Path) -> ImageData:
    return dataclasses.replace(read_image(source), alpha=None)


def _write_kernel(npy_path: Path, png_path: Path, kernel: np.ndarray) -> None:
    buffer = io.BytesIO()
    np.save(buffer, kernel)
    atomic_write_bytes(npy_path, buffer.getvalue())
    view = np.repeat((kernel / kernel.max())[..., None], 3, axis=2)
    write_image(png_path, ImageData(rgb=view.astype(np.float32), gray=True))


def _frame_paths(source: Path) -> list[Path] | None:
    if source.is_dir():
        paths = sorted(p for p in source.iterdir() if is_image(p))
        if not paths:
            raise ValueError(f"{source}: folder contains no image frames")
        return paths
    if is_video(source) and source.is_file():
        return None
    raise ValueError(f"{source}: not a folder of frames or a video file")


def _frame_loader(source: Path, paths: list[Path] | None) -> Callable[[int, int], list[ImageData]]:
    """``load(start, length)``: frames by index from a folder, or forward-only from a video."""
    if paths is not None:
        return lambda start, length: [read_image(p) for p in paths[start : start + length]]
    stream = enumerate(read_frames(source))

    def load(start: int, length: int) -> list[ImageData]:
        window = []
        for index, frame in stream:
            if index >= start:
                window.append(ImageData(rgb=frame.astype(np.float32) / np.float32(255)))
            if len(window) == length:
                return window
        raise ValueError(f"{source}: video ended before frame {start + length}")

    return load


def _prepare_output(out: Path, inputs: list[Path]) -> None:
    """Check that ``out`` can be written and is not inside an input; remove stale temp files.

    Raises:
        ValueError: ``out`` is, or lies inside, an input folder, or would write into
            one; or it cannot be written (:class:`~deblurgan.io.atomic.OutputFolderError`).
    """
    resolved = out.resolve()
    written = [resolved / sub for sub in ("blur", "sharp", "kernels")]
    for item in inputs:
        try:
            folder = item.resolve() if item.is_dir() else item.resolve().parent
        except (OSError, RuntimeError):  # a symbolic link loop: reported when it is read
            folder = item.parent.resolve()
        if (
            resolved == folder
            or folder in resolved.parents
            or any(w == folder or w in folder.parents for w in written)
        ):
            raise ValueError(
                f"output folder {resolved} would write into the input folder {folder}; "
                "choose another -o"
            )
    check_output_folder(out)
    for folder in (out, *written):
        remove_stale_temp_files(folder)
