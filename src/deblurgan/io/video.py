"""Reading and writing video frames with PyAV (FFmpeg's libraries, bundled in its wheel)."""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from deblurgan.io.atomic import atomic_path
from deblurgan.io.file_kind import describe_special_file
from deblurgan.io.formats import VIDEO_SUFFIXES

if TYPE_CHECKING:
    import av


class VideoError(ValueError):
    """A video cannot be read or written; the message names the file and the cause."""


@dataclasses.dataclass(frozen=True)
class VideoInfo:
    """What is needed to write a video like the source.

    Attributes:
        fps: Frame rate as an exact fraction (e.g. 30000/1001).
        width: Frame width in pixels.
        height: Frame height in pixels.
        frames: Frame count from the container, or None when it does not say.
    """

    fps: Fraction
    width: int
    height: int
    frames: int | None


def probe_video(path: str | os.PathLike) -> VideoInfo:
    """Read the frame rate, size and frame count of the first video stream."""
    with _open_input(path) as container:
        stream = _video_stream(container, path)
        rate = stream.average_rate or stream.guessed_rate or Fraction(25)
        return VideoInfo(Fraction(rate), stream.width, stream.height, stream.frames or None)


def read_frames(path: str | os.PathLike) -> Iterator[np.ndarray]:
    """Yield the frames of the first video stream as uint8 RGB arrays (H, W, 3)."""
    import av  # PyAV: imported when a video is opened, not at start-up

    with _open_input(path) as container:
        stream = _video_stream(container, path)
        try:
            for frame in container.decode(stream):
                yield frame.to_ndarray(format="rgb24")
        except av.error.FFmpegError as err:
            raise VideoError(f"{path}: decoding failed ({err})") from err


@contextlib.contextmanager
def video_writer(path: str | os.PathLike, info: VideoInfo, replace: bool = True) -> Iterator:
    """Open ``path`` for writing frames like ``info``; yields ``write(frame)``.

    The file appears only when the block finishes without error (atomic
    rename; with ``replace`` False, an existing ``path`` raises ``FileExistsError``
    then and is kept). The codec follows the suffix: H.264 for mp4/mov/mkv (4:4:4
    chroma when a side is odd, since 4:2:0 needs even sides), MPEG-4 Part 2
    for avi, VP9 for webm.
    """
    import av  # PyAV: imported when a video is opened, not at start-up

    path = Path(path)
    codec, pix_fmt, options = _codec_for(path.suffix.lower(), info.width, info.height)
    with atomic_path(path, replace) as tmp:
        try:
            container = av.open(str(tmp), mode="w")
        except av.error.FFmpegError as err:
            raise VideoError(f"{path}: cannot open for writing ({err})") from err
        with container:
            stream = container.add_stream(codec, rate=info.fps, options=options)
            stream.width, stream.height, stream.pix_fmt = info.width, info.height, pix_fmt

            def write(frame: np.ndarray) -> None:
                if frame.shape != (info.height, info.width, 3) or frame.dtype != np.uint8:
                    raise VideoError(
                        f"{path}: frame of shape {frame.shape} {frame.dtype}, expected "
                        f"({info.height}, {info.width}, 3) uint8"
                    )
                for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                    container.mux(packet)

            yield write
            for packet in stream.encode():  # flush the encoder
                container.mux(packet)


def _codec_for(suffix: str, width: int, height: int) -> tuple[str, str, dict[str, str]]:
    if suffix == ".avi":
        return "mpeg4", "yuv420p", {"qscale": "2"}
    if suffix == ".webm":
        return "libvpx-vp9", "yuv420p", {"crf": "20", "b": "0"}
    if suffix in {".mp4", ".m4v", ".mov", ".mkv"}:
        pix_fmt = "yuv420p" if width % 2 == 0 and height % 2 == 0 else "yuv444p"
        return "libx264", pix_fmt, {"crf": "16", "preset": "medium"}
    raise VideoError(f"unsupported video suffix {suffix!r}; use one of {sorted(VIDEO_SUFFIXES)}")


@contextlib.contextmanager
def _open_input(path: str | os.PathLike) -> Iterator:
    import av  # PyAV: imported when a video is opened, not at start-up

    path = Path(path)
    special = describe_special_file(path)
    if special is not None:  # a pipe or device: reading would block or never end
        raise VideoError(special)
    if not path.is_file():
        raise VideoError(f"{path}: no such video file")
    try:
        container = av.open(str(path))
    except av.error.FFmpegError as err:
        raise VideoError(f"{path}: not a readable video ({err})") from err
    with container:
        yield container


def _video_stream(container, path) -> av.video.stream.VideoStream:
    if not container.streams.video:
        raise VideoError(f"{path}: contains no video stream")
    return container.streams.video[0]
