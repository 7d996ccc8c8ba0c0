"""What one job of ``deblurgan serve`` does, and how far it is.

:func:`deblur_upload` turns an uploaded file into a result (and, for a photo, two JPEG
previews), counting progress in :class:`Progress` as it goes. Videos and animations count
frames. Methods that report their own stages (``MethodOptions.on_stage``: blind
deconvolution, the automatic method) show those words and fractions through a
:class:`StageRelay`, which is also where they stop when the job is cancelled. The network
says nothing until it returns, so its progress is an **estimate** from the photo's pixels
and the speed measured on this computer (:mod:`deblurgan.serve.estimate`), and the page says
so.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image

from deblurgan.io.animation import frame_count
from deblurgan.io.images import ImageData, read_image, write_image
from deblurgan.io.media import deblur_animation_file, deblur_video_file, media_kind
from deblurgan.io.video import probe_video
from deblurgan.serve.estimate import Route, Speed, measure_speed, photo_route

DeblurFn = Callable[[np.ndarray], np.ndarray]
StageFn = Callable[[str, float], None]
PREVIEW_SIDE = 2048  # longest side of the before/after previews
ESTIMATE_CEILING = 0.95  # an estimate never shows more than this before the model returns
CONVERTING_AFTER_S = 3.0  # loading the model longer than this: it is being converted
STARTING = "getting ready"
LOADING = "first photo: loading the model"
CONVERTING = "first photo: converting the model for this computer (only the first time)"
TIMING = "measuring this computer's speed (once)"
READING, DEBLURRING, SAVING = "reading the file", "deblurring", "saving the result"


class Cancelled(Exception):
    """Raised inside a running job when it was cancelled."""


@dataclasses.dataclass
class Progress:
    """How far a job is: written by the worker, read by the page's requests.

    Times are ``time.monotonic()`` seconds (one clock for every process of the machine).
    ``stage`` is what runs now in plain words, ``stage_fraction`` the method's own fraction
    of its work where it reports one.
    """

    started: float | None = None  # the job began running
    ended: float | None = None  # it ended (done, failed or cancelled)
    frames: int | None = None  # frames of a video or animation
    frames_done: int = 0
    estimate_s: float | None = None  # expected seconds of the model's call on a photo
    model_started: float | None = None  # that call began
    model_ended: float | None = None  # it returned
    stage: str | None = None
    stage_since: float | None = None
    stage_fraction: float | None = None

    def set_stage(self, stage: str, fraction: float | None = None) -> None:
        """Say what runs now (``fraction``: how much of the method's work is done)."""
        if stage != self.stage:
            self.stage, self.stage_since = stage, time.monotonic()
        self.stage_fraction = None if fraction is None else min(max(float(fraction), 0.0), 1.0)

    def public(self, done: bool, now: float | None = None) -> dict:
        """``progress`` (0 to 1), its ``basis`` ("frames", "stages": of the method's current
        stage, "estimate" or None: unknown), ``elapsed_s`` since the job began running,
        ``remaining_s`` (None: unknown; of the current stage for "stages") and ``stage``
        (plain words, None when nothing runs)."""
        now = time.monotonic() if now is None else now
        elapsed = None if self.started is None else (self.ended or now) - self.started
        basis, fraction, remaining = None, 0.0, None
        if self.frames:
            basis = "frames"
            fraction = min(self.frames_done / self.frames, 0.99)
            if self.frames_done and elapsed is not None:
                remaining = elapsed / self.frames_done * (self.frames - self.frames_done)
        elif self.stage_fraction is not None:  # the stage's own fraction, and its time left
            basis, fraction = "stages", min(self.stage_fraction, 0.99)
            if fraction >= 0.05 and self.stage_since is not None:
                spent = now - self.stage_since
                remaining = spent / fraction * (1 - fraction)
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
        stage = self.stage
        if stage == LOADING and self.stage_since and now - self.stage_since > CONVERTING_AFTER_S:
            stage = CONVERTING
        if done:
            fraction, remaining, stage = 1.0, 0.0, None
        elif self.ended is not None:
            remaining, stage = None, None
        return {
            "progress": round(fraction, 4),
            "basis": basis,
            "elapsed_s": None if elapsed is None else round(elapsed, 1),
            "remaining_s": None if remaining is None else round(remaining, 1),
            "stage": stage,
        }


class StageRelay:
    """The ``on_stage`` callback given to a method when it is built: passes its stages to
    the running job's :class:`Progress`, and stops it (raises :class:`Cancelled`) once the
    job is cancelled. One method serves many jobs, so the job is attached per run."""

    def __init__(self) -> None:
        self.progress: Progress | None = None
        self.cancelled: Callable[[], bool] = lambda: False

    def attach(self, progress: Progress | None, cancelled: Callable[[], bool]) -> None:
        """Send the stages to ``progress`` and poll ``cancelled`` from now on."""
        self.progress, self.cancelled = progress, cancelled

    def __call__(self, stage: str, fraction: float) -> None:
        """Called by the method between its steps.

        Raises:
            Cancelled: The job was cancelled.
        """
        if self.progress is not None:
            self.progress.set_stage(stage, fraction)
        if self.cancelled():
            raise Cancelled


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What :func:`deblur_upload` made: the kind of file, the speeds of the routes the photo
    measured or ran (network only), a photo's (before, after) previews, and the method's
    note and decision on it (e.g. no blur found; "uniform shake, kernel 21 px")."""

    kind: Literal["image", "animation", "video"]
    speeds: dict[Route, Speed]
    previews: tuple[Path, Path] | None
    note: str | None = None
    decision: str | None = None


def deblur_upload(
    deblur: DeblurFn,
    source: Path,
    target: Path,
    progress: Progress,
    speeds: dict[Route, Speed] | None,
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
        speeds: The network's measured speeds by route, used for a photo's estimate (a
            route not in it is measured first); None: the method's time is not estimated.
        cancelled: Polled before each call of the model; True raises :class:`Cancelled`.

    Raises:
        Cancelled: ``cancelled()`` became True.
    """
    learned: dict[Route, Speed] = dict(speeds or {})
    restoration = None
    frames = deblur  # what a video's or animation's frames go through

    def timed(rgb: np.ndarray, whole_photo: bool = False) -> np.ndarray:
        nonlocal restoration
        if cancelled():
            raise Cancelled
        progress.model_started, progress.model_ended = time.monotonic(), None
        if whole_photo and hasattr(deblur, "restore"):  # a method: it may leave a note
            restoration = deblur.restore(rgb)
            restored = restoration.rgb
        else:
            restored = frames(rgb)
        progress.model_ended = time.monotonic()
        progress.frames_done += 1
        return restored

    progress.set_stage(READING)
    kind = media_kind(source)
    if kind != "image":  # a fresh state per upload: l0 and auto decide once per shot
        from deblurgan.methods.video import for_video  # not at start-up

        frames = for_video(deblur)
    if kind == "video":
        count = probe_video(source).frames  # None: the container does not say (MKV)
        progress.frames = None if count is None else max(count, 1)
        progress.set_stage(DEBLURRING)
        deblur_video_file(timed, source, target, progress=False)
    elif kind == "animation":
        progress.frames = frame_count(source)
        progress.set_stage(DEBLURRING)
        deblur_animation_file(timed, source, target, max_pixels)
    else:
        image = read_image(source, max_pixels)
        pixels = image.rgb.shape[0] * image.rgb.shape[1]
        route = photo_route(deblur, *image.rgb.shape[:2]) if speeds is not None else None
        if route is not None:
            if route not in learned:
                progress.set_stage(TIMING)
                learned[route] = measure_speed(deblur, route, image.rgb.shape[:2])
                if cancelled():
                    raise Cancelled
            progress.estimate_s = learned[route].seconds(pixels)
        progress.set_stage(DEBLURRING)
        restored = image.with_rgb(timed(image.rgb, whole_photo=True))
        if route is not None:
            seconds = progress.model_ended - progress.model_started
            learned[route] = learned[route].learned(pixels, seconds)
        progress.set_stage(SAVING)
        write_image(target, restored)
        written = (write_preview(previews[0], image), write_preview(previews[1], restored))
        note = restoration.note if restoration is not None else None
        decision = getattr(restoration, "decision", None)
        return Outcome(kind, learned, written, note, decision)
    shots = getattr(frames, "decisions", None)  # a VideoDeblur: each shot's decision
    return Outcome(kind, learned, None, decision=" / ".join(shots()) if shots else None)


def write_preview(path: Path, image: ImageData) -> Path:
    """An upright 8-bit JPEG no larger than :data:`PREVIEW_SIDE`, for the page's slider."""
    pixels = Image.fromarray(np.clip(np.rint(image.rgb * 255), 0, 255).astype(np.uint8))
    pixels.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE), Image.Resampling.LANCZOS)
    write_image(path, ImageData(rgb=np.asarray(pixels, np.float32) / 255), jpeg_quality=92)
    return path
