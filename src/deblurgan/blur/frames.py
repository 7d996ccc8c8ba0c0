"""Real motion blur from high-frame-rate video: the GoPro recipe (paper section 6.3).

A blurred image is the average of ``N`` consecutive frames in linear light:
decode with ``x ** gamma``, average, re-encode with ``x ** (1 / gamma)``; the
sharp image is the middle frame (index ``N // 2`` of the window). Nah et al.
used 7-13 frames at 240 fps; the DeblurGAN paper 5-25.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

DISPLAY_GAMMA = 2.2  # light is averaged as x ** 2.2 of the encoded values, then re-encoded
GOPRO_FRAMES = (7, 13)  # frames averaged per blurred image in the GoPro dataset (Nah et al.)


@dataclasses.dataclass(frozen=True)
class FrameAveraging:
    """How consecutive high-fps frames become blurred/sharp pairs (``synth --frames``).

    Attributes:
        n_avg: Inclusive range of frames averaged per pair, one length drawn per pair.
        gap: Frames skipped between pairs.
        gamma: Display gamma of the frames (averaged in linear light).
    """

    n_avg: tuple[int, int] = GOPRO_FRAMES
    gap: int = 0
    gamma: float = DISPLAY_GAMMA

    def __post_init__(self) -> None:
        if len(self.n_avg) != 2 or not 1 <= self.n_avg[0] <= self.n_avg[1]:
            raise ValueError(f"n_avg: must satisfy 1 <= LOW <= HIGH, got {self.n_avg}")
        if self.gap < 0:
            raise ValueError(f"gap: must be >= 0, got {self.gap}")
        if self.gamma <= 0:
            raise ValueError(f"gamma: must be positive, got {self.gamma}")


def average_frames(frames: Sequence[np.ndarray], gamma: float = DISPLAY_GAMMA) -> np.ndarray:
    """Gamma-correct average of equally sized frames, in the frames' dtype.

    Args:
        frames: uint8, uint16 or float (in [0, 1]) frames of one shape.
        gamma: Display gamma; 1.0 gives a plain average.

    Returns:
        The simulated long exposure, same shape and dtype as a frame.

    Examples:
        >>> frame = np.full((2, 2), 100, np.uint8)
        >>> average_frames([frame, frame, frame]).tolist()
        [[100, 100], [100, 100]]
    """
    if not frames:
        raise ValueError("need at least one frame")
    first = frames[0]
    if any(f.shape != first.shape or f.dtype != first.dtype for f in frames):
        raise ValueError("all frames must have the same shape and dtype")
    scale = float(np.iinfo(first.dtype).max) if first.dtype.kind == "u" else 1.0
    linear = np.zeros(first.shape, dtype=np.float64)
    if first.dtype.kind == "u" and first.dtype.itemsize <= 2:  # each code's light, looked up
        light = (np.arange(int(scale) + 1, dtype=np.float64) / scale) ** gamma
        for frame in frames:
            linear += light[frame]
    else:
        for frame in frames:
            linear += (frame.astype(np.float64) / scale) ** gamma
    average = (linear / len(frames)) ** (1.0 / gamma)
    if first.dtype.kind == "u":
        return np.clip(np.rint(average * scale), 0, scale).astype(first.dtype)
    return average.astype(first.dtype)


def frame_windows(
    n_frames: int, n_avg: tuple[int, int], rng: np.random.Generator, gap: int = 0
) -> list[tuple[int, int]]:
    """Cut ``n_frames`` into consecutive, non-overlapping averaging windows.

    Args:
        n_frames: Frames available.
        n_avg: Inclusive range of window lengths; each window draws its own.
        rng: Source of randomness for the lengths.
        gap: Frames skipped between windows.

    Returns:
        ``(start, length)`` of each window; the sharp frame is ``start + length // 2``.
    """
    low, high = n_avg
    if not 1 <= low <= high:
        raise ValueError(f"n_avg must satisfy 1 <= low <= high, got {n_avg}")
    if gap < 0:
        raise ValueError(f"gap must be >= 0, got {gap}")
    windows = []
    start = 0
    while True:
        length = int(rng.integers(low, high + 1))
        if start + length > n_frames:
            return windows
        windows.append((start, length))
        start += length + gap
