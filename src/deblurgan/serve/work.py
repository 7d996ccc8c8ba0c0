"""What one job of ``deblurgan serve`` does, and how far it is.

:func:`deblur_upload` turns an uploaded file into a result (and, for a photo, two JPEG
previews), counting progress in :class:`Progress` as it goes. Videos and animations count
frames. A photo is a single call to the model, which says nothing until it returns, so its
progress is an **estimate**: the photo's pixels at the speed measured on the previous photo
or frame with the same options (or, for the first, on a small check image when the model
was loaded), and the page says so.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image

from deblurgan.io.images import ImageData, frame_count, read_image, write_image
from deblurgan.io.media import deblur_animation_file, deblur_video_file, media_kind
from deblurgan.io.video import probe_video

DeblurFn = Callable[[np.ndarray], np.ndarray]
PREVIEW_SIDE = 2048  # longest side of the before/after previews
CHECK_SIDE = 256  # side of the image timed when a model is loaded
ESTIMATE_CEILING = 0.95  # an estimate never shows more than this before the model returns


class Cancelled(Exception):
    """Raised inside a running job when it was cancelled."""


@dataclasses.dataclass
class Progress:
    """How far a job is: written by the worker thread, read by the page's requests.

    Times are ``time.monotonic()`` seconds.
    """

    started: float | None = None  # the job began running
    ended: float | None = None  # it ended (done, failed or cancelled)
    frames: int | None = None  # frames of a video or animation
    frames_done: int = 0
    estimate_s: float | None = None  # expected seconds of the model's call on a photo
    model_started: float | None = None  # that call began
    model_ended: float | None = None  # it returned

    def public(self, done: bool, now: float | None = None) -> dict:
        """``progress`` (0 to 1), its ``basis`` ("frames", "estimate" or None: unknown),
        ``elapsed_s`` since the job began running and ``remaining_s`` (None: unknown)."""
        now = time.monotonic() if now is None else now
        elapsed = None if self.started is None else (self.ended or now) - self.started
        basis, fraction, remaining = None, 0.0, None
        if self.frames:
            basis = "frames"
            fraction = min(self.frames_done / self.frames, 0.99)
            if self.frames_done and elapsed is not None:
                remaining = elapsed / self.frames_done * (self.frames - self.frames_done)
        elif self.estimate_s:
            basis = "estimate"
            if self.model_ended is not None:
                fraction = 0.98
            elif self.model_started is not None:
                spent = now - self.model_started
                fraction = min(spent / self.estimate_s, ESTIMATE_CEILING)
                remaining = max(self.estimate_s - spent, 0.0)
            else:
                remaining = self.estimate_s
        if done:
            fraction, remaining = 1.0, 0.0
        elif self.ended is not None:
            remaining = None
        return {
            "progress": round(fraction, 4),
            "basis": basis,
            "elapsed_s": None if elapsed is None else round(elapsed, 1),
            "remaining_s": None if remaining is None else round(remaining, 1),
        }


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What :func:`deblur_upload` made: the kind of file, the speed measured on it (pixels
    per second), a photo's (before, after) previews and the method's note on it (e.g. no
    blur found)."""

    kind: Literal["image", "animation", "video"]
    speed: float | None
    previews: tuple[Path, Path] | None
    note: str | None = None


def measure_speed(deblur: DeblurFn) -> float:
    """Pixels per second of ``deblur`` on a small grey image (pessimistic for large photos:
    the fixed cost of a call is spread over few pixels)."""
    check = np.full((CHECK_SIDE, CHECK_SIDE, 3), 0.5, np.float32)
    start = time.monotonic()
    deblur(check)
    return CHECK_SIDE**2 / max(time.monotonic() - start, 1e-6)


def deblur_upload(
    deblur: DeblurFn,
    source: Path,
    target: Path,
    progress: Progress,
    speed: float | None,
    max_pixels: int | None,
    cancelled: Callable[[], bool],
    previews: tuple[Path, Path],
) -> Outcome:
    """Deblur ``source`` into ``target`` (and a photo's before/after previews into
    ``previews``).

    Args:
        deblur: The model: float32 RGB ``(H, W, 3)`` in [0, 1] in and out; a photo goes
            through its ``restore`` where it has one (a :mod:`deblurgan.methods` method).
        progress: Updated as the job goes.
        speed: Pixels per second expected of ``deblur`` (None: unknown).
        cancelled: Polled before each call of the model; True raises :class:`Cancelled`.

    Raises:
        Cancelled: ``cancelled()`` became True.
    """
    pixels, seconds, written, note = 0, 0.0, None, None

    def timed(rgb: np.ndarray, whole_photo: bool = False) -> np.ndarray:
        nonlocal pixels, seconds, note
        if cancelled():
            raise Cancelled
        start = progress.model_started = time.monotonic()
        if whole_photo and hasattr(deblur, "restore"):  # a method: it may leave a note
            restoration = deblur.restore(rgb)
            restored, note = restoration.rgb, restoration.note
        else:
            restored = deblur(rgb)
        progress.model_ended = time.monotonic()
        seconds += progress.model_ended - start
        pixels += rgb.shape[0] * rgb.shape[1]
        progress.frames_done += 1
        return restored

    kind = media_kind(source)
    if kind == "video":
        progress.frames = max(probe_video(source).frames, 1)
        deblur_video_file(timed, source, target, progress=False)
    elif kind == "animation":
        progress.frames = frame_count(source)
        deblur_animation_file(timed, source, target, max_pixels)
    else:
        image = read_image(source, max_pixels)
        height, width = image.rgb.shape[:2]
        progress.estimate_s = height * width / speed if speed else None
        restored = image.with_rgb(timed(image.rgb, whole_photo=True))
        write_image(target, restored)
        written = (write_preview(previews[0], image), write_preview(previews[1], restored))
    return Outcome(kind, pixels / seconds if seconds > 0 else None, written, note)


def write_preview(path: Path, image: ImageData) -> Path:
    """An upright 8-bit JPEG no larger than :data:`PREVIEW_SIDE`, for the page's slider."""
    pixels = Image.fromarray(np.clip(np.rint(image.rgb * 255), 0, 255).astype(np.uint8))
    pixels.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE), Image.Resampling.LANCZOS)
    write_image(path, ImageData(rgb=np.asarray(pixels, np.float32) / 255), jpeg_quality=92)
    return path
