"""Animated GIF, WebP and PNG, read and written frame by frame with their durations and loop
count; each frame an :class:`~deblurgan.io.images.ImageData`."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageSequence

from deblurgan.io.atomic import atomic_path
from deblurgan.io.formats import ANIMATION_SUFFIXES
from deblurgan.io.images import (
    DEFAULT_MAX_PIXELS,
    ImageData,
    ImageReadError,
    ImageWriteError,
    checked_file,
    image_data_from_pixels,
    open_image,
    pixels_for_file,
    read_error,
)


@dataclasses.dataclass(frozen=True)
class Animation:
    """The frames of an animated GIF, WebP or PNG, each composited to a full 8-bit image.

    Attributes:
        frames: One :class:`ImageData` per frame (RGB, alpha where the file has it).
        durations: Display time of each frame in milliseconds.
        loop: Times the animation repeats (0: forever), or None if the file does not say.
    """

    frames: tuple[ImageData, ...]
    durations: tuple[int, ...]
    loop: int | None = None


def frame_count(path: str | os.PathLike) -> int:
    """Frames in an image file (1 for still images; animations only in GIF, WebP, PNG)."""
    path = Path(path)
    if path.suffix.lower() not in ANIMATION_SUFFIXES:
        return 1
    try:
        with open_image(checked_file(path), None) as im:
            return getattr(im, "n_frames", 1)
    except (ImageReadError, OSError, SyntaxError, ValueError) as err:
        raise read_error(path, err) from err


def read_animation(
    path: str | os.PathLike, max_pixels: int | None = DEFAULT_MAX_PIXELS
) -> Animation:
    """Decode every frame of an animated image, with durations and loop count.

    Raises:
        ImageReadError: As :func:`~deblurgan.io.images.read_image`.
    """
    path = checked_file(Path(path))
    try:
        with open_image(path, max_pixels) as im:
            loop = im.info.get("loop")
            frames, durations = [], []
            for frame in ImageSequence.Iterator(im):
                frame.load()  # WebP knows a frame's duration only once it is decoded
                durations.append(int(frame.info.get("duration", 100)))
                alpha = frame.mode in {"RGBA", "LA", "PA"} or "transparency" in frame.info
                pixels = np.asarray(frame.convert("RGBA" if alpha else "RGB"))
                frames.append(image_data_from_pixels(path, pixels, None))
    except (ImageReadError, OSError, SyntaxError, ValueError) as err:
        raise read_error(path, err) from err
    return Animation(tuple(frames), tuple(durations), loop)


def write_animation(path: str | os.PathLike, animation: Animation, replace: bool = True) -> None:
    """Encode an :class:`Animation` to ``path`` atomically (``.gif``, ``.webp`` or ``.png``);
    with ``replace`` False an existing ``path`` raises ``FileExistsError`` and is kept.

    Raises:
        ImageWriteError: The suffix cannot hold an animation.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in ANIMATION_SUFFIXES:
        raise ImageWriteError(
            f"{path}: {suffix} cannot store {len(animation.frames)} frames; "
            "use .gif, .webp or .png (or keep the input's format)"
        )
    first, *rest = (Image.fromarray(pixels_for_file(frame, 8)) for frame in animation.frames)
    options: dict = {"save_all": True, "append_images": rest, "duration": list(animation.durations)}
    if animation.loop is not None:
        options["loop"] = animation.loop
    if suffix == ".webp":
        options.update(lossless=True)
    with atomic_path(path, replace) as tmp:
        first.save(tmp, format={".gif": "GIF", ".webp": "WEBP", ".png": "PNG"}[suffix], **options)
