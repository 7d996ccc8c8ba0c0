"""Where a video's shots begin: a frame whose colours and layout both differ from the
previous frame's (cheap: a 64-bin colour histogram and an 8-pixel luminance map per frame).

Camera shake changes a frame's layout (the frame moves) and, through blur, its colours
(blur mixes them); a cut changes both. :func:`is_cut` asks for both.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = [
    "CUT_COLOURS",
    "CUT_LAYOUT",
    "colour_histogram",
    "find_cuts",
    "frame_layout",
    "frame_signature",
    "histogram_distance",
    "is_cut",
    "layout_distance",
]

# A new shot starts where the colours (:func:`histogram_distance`) AND the layout
# (:func:`layout_distance`) of a frame both differ from the previous frame's by more than
# these. Set on training material only (``benchmarks/video_flicker.py --calibrate-cuts``,
# the table is in docs/video.md): 290 pairs of frames of one shot (GOPR0477's raw 240 fps
# frames 1 and 8 apart, 7-frame averages; sharp_corpus training photos at 320x240, sharp
# and under two random shake kernels of up to 40 px, shifted by up to 12 px, 1/255 noise)
# against 250 cuts (between two training photos, or a GoPro frame and a photo). Neither
# distance separates them alone: the colours reached 0.368 within a shot (blur mixes
# colours) and cuts started at 0.280; the layout reached 0.436 within a shot (the shake
# shifts the frame) and cuts started at 0.527. Both together separated every pair for
# colour thresholds of 0.15-0.25 with a layout threshold of 0.4-0.5; the layout's is set
# midway between 0.436 and 0.527.
CUT_COLOURS = 0.2
CUT_LAYOUT = 0.48
HISTOGRAM_BINS = 4  # per channel: 64 colour bins
SIGNATURE_SIDE = 64  # frames are reduced to this long side before the histogram
LAYOUT_SIDE = 8  # and to this long side for the layout
LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def _reduced(rgb: np.ndarray, side: int) -> np.ndarray:
    height, width = rgb.shape[:2]
    scale = min(1.0, side / max(height, width))
    size = (max(int(round(width * scale)), 1), max(int(round(height * scale)), 1))
    return cv2.resize(rgb.astype(np.float32), size, interpolation=cv2.INTER_AREA)


def colour_histogram(rgb: np.ndarray) -> np.ndarray:
    """The joint colour histogram of a frame reduced to :data:`SIGNATURE_SIDE` pixels
    (:data:`HISTOGRAM_BINS` bins per channel), summing to 1: it hardly moves when the
    camera shakes or pans a little, and jumps at most cuts.

    Shape:
        - Input: :math:`(H, W, 3)` in [0, 1]; output :math:`(64,)`.
    """
    bins = HISTOGRAM_BINS
    q = np.clip((_reduced(rgb, SIGNATURE_SIDE) * bins).astype(np.int64), 0, bins - 1)
    index = (q[..., 0] * bins + q[..., 1]) * bins + q[..., 2]
    counts = np.bincount(index.ravel(), minlength=bins**3).astype(np.float64)
    return counts / counts.sum()


def histogram_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Half the L1 distance of two histograms: 0 for the same colours, 1 for none shared.

    Examples:
        >>> histogram_distance(np.array([1.0, 0.0]), np.array([0.0, 1.0]))
        1.0
    """
    return float(0.5 * np.abs(a - b).sum())


def frame_layout(rgb: np.ndarray) -> np.ndarray:
    """The frame's luminance reduced to :data:`LAYOUT_SIDE` pixels, standardised (zero
    mean, unit deviation): where the light and dark parts are, which blur hardly changes.

    Shape:
        - Input: :math:`(H, W, 3)` in [0, 1]; output about :math:`(8 H / W, 8)`.
    """
    gray = _reduced(rgb, LAYOUT_SIDE) @ LUMA
    return (gray - gray.mean()) / max(float(gray.std()), 1e-3)


def layout_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two :func:`frame_layout` maps (0: the same layout)."""
    return float(np.mean(np.abs(a - b)))


def frame_signature(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A frame's :func:`colour_histogram` and :func:`frame_layout`, for :func:`is_cut`."""
    return colour_histogram(rgb), frame_layout(rgb)


def is_cut(
    before: tuple[np.ndarray, np.ndarray],
    after: tuple[np.ndarray, np.ndarray],
    colours: float = CUT_COLOURS,
    layout: float = CUT_LAYOUT,
) -> bool:
    """Whether a frame with the signature ``after`` starts a new shot after one with
    ``before`` (:func:`frame_signature`): its colours and its layout both changed by more
    than the thresholds."""
    return (
        histogram_distance(before[0], after[0]) > colours
        and layout_distance(before[1], after[1]) > layout
    )


def find_cuts(
    frames: list[np.ndarray], colours: float = CUT_COLOURS, layout: float = CUT_LAYOUT
) -> list[int]:
    """Indices of the frames that start a new shot (the first frame is not counted): the
    colours and the layout both changed from the previous frame by more than the
    thresholds.

    Shape:
        - Input: frames :math:`(H, W, 3)` in [0, 1].
    """
    signatures = [frame_signature(frame) for frame in frames]
    return [i for i in range(1, len(frames)) if is_cut(*signatures[i - 1 : i + 1], colours, layout)]
