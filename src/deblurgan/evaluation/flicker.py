"""Flicker: how much a method adds to the change from one frame of a video to the next.

:func:`frame_changes` is the mean absolute difference of consecutive frames;
:func:`flicker_ratio` the output's total change over the input's: 1 means the method added
no change in time (the output moves exactly as much as the input), above 1 that it did
(frames deblurred differently, kernels that jump, some frames left alone and others not).
The change into the first frame of a shot is left out when the cuts are given.
:func:`flicker_peak` is the largest such ratio between two frames: a method that switches
treatment now and then shows there even when its total stays low.
Sharpening alone raises the ratio a little even with one kernel for the whole clip, since
it amplifies the noise that differs from frame to frame; compare ratios of methods on the
same clip.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence

import numpy as np

__all__ = ["flicker_peak", "flicker_ratio", "frame_changes"]


def frame_changes(frames: Sequence[np.ndarray] | np.ndarray) -> np.ndarray:
    """The mean absolute difference of each frame and the next.

    Shape:
        - Input: :math:`(N, H, W, C)` or :math:`(N, H, W)` (a stack or a list of equal
          frames), values in any one unit.
        - Output: :math:`(N - 1,)`, float64.

    Raises:
        ValueError: Fewer than two frames, or frames of different shapes.

    Examples:
        >>> frame_changes(np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]])).tolist()
        [0.5, 0.5]
    """
    shapes = {np.shape(frame) for frame in frames}
    if len(frames) < 2:
        raise ValueError(f"flicker needs at least two frames, got {len(frames)}")
    if len(shapes) != 1:
        raise ValueError(f"frames of different shapes: {sorted(shapes)}")
    return np.array(
        [
            float(np.mean(np.abs(np.asarray(b, np.float64) - np.asarray(a, np.float64))))
            for a, b in zip(frames[:-1], frames[1:])
        ]
    )


def flicker_ratio(
    output: Sequence[np.ndarray] | np.ndarray,
    source: Sequence[np.ndarray] | np.ndarray,
    cuts: Collection[int] = (),
) -> float:
    """The output's frame-to-frame change over the input's (the sums of
    :func:`frame_changes`): 1 when the method adds no flicker.

    Frames that never change in the input (a still clip) give 1.0 when the output never
    changes either, and infinity when it does.

    Args:
        output: The method's frames.
        source: The input frames.
        cuts: Indices of frames that start a new shot: the change into them is left out
            (a cut changes everything, and would swamp the flicker within shots).

    Shape:
        - Input: both :math:`(N, H, W, C)`, the same shape.

    Raises:
        ValueError: Different frame counts or shapes, or fewer than two frames.

    Examples:
        >>> clip = np.random.default_rng(0).random((4, 8, 8, 3))
        >>> flicker_ratio(clip, clip)
        1.0
        >>> flicker_ratio(clip * 0.5, clip)
        0.5
    """
    _check_alike(output, source)
    kept = np.array([i + 1 not in cuts for i in range(len(source) - 1)])
    moved = float(frame_changes(output)[kept].sum())
    moving = float(frame_changes(source)[kept].sum())
    if moving == 0.0:
        return 1.0 if moved == 0.0 else math.inf
    return moved / moving


def flicker_peak(
    output: Sequence[np.ndarray] | np.ndarray,
    source: Sequence[np.ndarray] | np.ndarray,
    cuts: Collection[int] = (),
) -> float:
    """The largest ratio of the output's change to the input's between two consecutive
    frames (leaving out the changes into the ``cuts``, as :func:`flicker_ratio`); a pair
    of frames with no change in the input counts as 1.0 if the output did not change
    either, and infinity if it did.

    Shape:
        - Input: both :math:`(N, H, W, C)`, the same shape.

    Examples:
        >>> clip = np.linspace(0.0, 0.3, 4)[:, None] * np.ones((4, 6))  # 0.1 a frame
        >>> jumpy = clip.copy(); jumpy[2] += 0.2
        >>> flicker_peak(clip, clip), round(flicker_peak(jumpy, clip), 6)
        (1.0, 3.0)
    """
    _check_alike(output, source)
    moved, moving = frame_changes(output), frame_changes(source)
    ratios = [
        (1.0 if b == 0.0 else math.inf) if a == 0.0 else b / a
        for i, (a, b) in enumerate(zip(moving, moved))
        if i + 1 not in cuts
    ]
    return float(max(ratios, default=1.0))


def _check_alike(
    output: Sequence[np.ndarray] | np.ndarray, source: Sequence[np.ndarray] | np.ndarray
) -> None:
    """Raise ValueError unless both clips have the same frame count and frame shape."""
    if len(output) != len(source) or np.shape(output[0]) != np.shape(source[0]):
        raise ValueError(
            f"output and input differ: {len(output)} frames of {np.shape(output[0])} against "
            f"{len(source)} of {np.shape(source[0])}"
        )
