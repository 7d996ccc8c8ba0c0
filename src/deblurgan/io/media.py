"""Media files: which files are images, animations or videos, and how each kind is read
and written when every frame goes through a function (deblurring, batch or server jobs).

The suffix tables come from :mod:`deblurgan.io.formats`; code outside ``io`` takes them
from here. NumPy and the codecs only: this is on the start-up path of ``deblurgan deblur``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Literal

import numpy as np
from tqdm import tqdm

from deblurgan.io.animation import frame_count, read_animation, write_animation
from deblurgan.io.background import OrderedWriter, prefetch
from deblurgan.io.formats import ANIMATION_SUFFIXES, IMAGE_SUFFIXES, MEDIA_SUFFIXES, VIDEO_SUFFIXES
from deblurgan.io.images import DEFAULT_MAX_PIXELS
from deblurgan.io.video import probe_video, read_frames, video_writer

__all__ = [
    "ANIMATION_SUFFIXES",
    "IMAGE_SUFFIXES",
    "MEDIA_SUFFIXES",
    "VIDEO_SUFFIXES",
    "MediaKind",
    "deblur_animation_file",
    "deblur_video_file",
    "is_image",
    "is_media",
    "is_video",
    "media_kind",
]

FrameFn = Callable[[np.ndarray], np.ndarray]  # an image or a stack of frames, same shape
MediaKind = Literal["image", "animation", "video"]


def is_image(path: Path) -> bool:
    """Whether ``path``'s suffix is an image format (any case); the file is not opened."""
    return path.suffix.lower() in IMAGE_SUFFIXES


def is_video(path: Path) -> bool:
    """Whether ``path``'s suffix is a video container (any case); the file is not opened."""
    return path.suffix.lower() in VIDEO_SUFFIXES


def is_media(path: Path) -> bool:
    """Whether ``path``'s suffix is an image or video format (any case).

    Examples:
        >>> [is_media(Path(name)) for name in ("a.JPG", "b.mov", "notes.txt")]
        [True, True, False]
    """
    return path.suffix.lower() in MEDIA_SUFFIXES


def media_kind(path: Path) -> MediaKind:
    """How a file is processed: a video by its suffix, an animation by its frame count
    (GIF, WebP, PNG; the header is read), anything else as one image.

    Raises:
        ImageReadError: An animation-capable file that cannot be opened.
    """
    if is_video(path):
        return "video"
    return "animation" if frame_count(path) > 1 else "image"


def deblur_video_file(
    deblur: FrameFn,
    source: Path,
    target: Path,
    progress: bool = True,
    batch: int = 1,
    replace: bool = True,
) -> None:
    """Pass a video's frames through ``deblur`` into a file with the same frame rate and
    size, ``batch`` frames at a time, decoding ahead and encoding behind in background
    threads.

    Args:
        deblur: Float32 RGB in [0, 1] to the same; one frame :math:`(H, W, 3)` when
            ``batch`` is 1, else stacks :math:`(N, H, W, 3)` with ``N <= batch``. Frames
            come in order, so it may keep state from frame to frame: give each file a
            fresh one (:func:`deblurgan.methods.video.for_video`).
        source: The video read.
        target: The video written (its suffix chooses the codec).
        progress: Show a progress bar over frames.
        batch: Frames per call of ``deblur``.
        replace: False: an existing ``target`` (even one created meanwhile) is kept and
            ``FileExistsError`` raised.
    """
    info = probe_video(source)
    bar = tqdm(total=info.frames, desc=source.name, unit="frame", leave=False, disable=not progress)
    with video_writer(target, info, replace) as write, OrderedWriter() as writer:
        for frames in prefetch(_stacks(read_frames(source), batch)):
            restored = deblur(frames[0] if batch == 1 else frames)
            writer.submit(_write_frames, write, restored.reshape(-1, *frames.shape[1:]))
            bar.update(len(frames))
    bar.close()


def deblur_animation_file(
    deblur: FrameFn,
    source: Path,
    target: Path,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    replace: bool = True,
) -> None:
    """Pass every frame of an animated GIF, WebP or PNG through ``deblur``, keeping
    durations and loop count.

    Args:
        deblur: Float32 RGB :math:`(H, W, 3)` in [0, 1] to the same, called on the frames
            in order (a fresh one per file if it keeps state, as for videos).
        source: The animation read.
        target: The animation written (``.gif``, ``.webp`` or ``.png``).
        max_pixels: Larger frames are refused (None: no limit).
        replace: False: an existing ``target`` (even one created meanwhile) is kept and
            ``FileExistsError`` raised.
    """
    animation = read_animation(source, max_pixels)
    frames = tuple(frame.with_rgb(deblur(frame.rgb)) for frame in animation.frames)
    write_animation(target, dataclasses.replace(animation, frames=frames), replace)


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
