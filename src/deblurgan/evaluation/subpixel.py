"""Levin et al.'s sub-pixel alignment protocol for scoring blind deblurring.

A blind method cannot know where the blur kernel's origin was, so its output may be
offset from the sharp image by a fraction of a pixel; a 0.3-0.45 px residual shift
alone costs 0.5-2 dB. Levin, Weiss, Durand and Freeman (CVPR 2009, "Understanding and
evaluating blind deconvolution algorithms"; their ``comp_upto_shift.m``) therefore
shift the restored image over a grid of 0.25 px steps within +-5 px, by **bilinear
interpolation** (MATLAB's ``interp2``, which is what this module does; no Fourier
shift), compare it with the sharp image cropped by 15 px on every side, and keep the
shift with the smallest sum of squared differences. PSNR and SSIM are then measured
on that crop of the shifted image (on 8-bit values, see :mod:`deblurgan.metrics`).

The whole-pixel alignment of ``evaluate --align`` (:func:`~deblurgan.evaluation.scoring.
best_shift`) is kept unchanged beside it, for comparisons with earlier numbers.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from deblurgan.evaluation.scoring import luma
from deblurgan.metrics import psnr, ssim

LEVIN_MAX_SHIFT = 5.0
LEVIN_STEP = 0.25
LEVIN_CROP = 15


class SubpixelScore(NamedTuple):
    """PSNR and SSIM at the best sub-pixel shift, and that shift ``(dy, dx)`` in pixels:
    the restored image sampled at ``(y + dy, x + dx)`` matches the sharp one at ``(y, x)``."""

    psnr: float
    ssim: float
    shift: tuple[float, float]


def shift_grid(max_shift: float = LEVIN_MAX_SHIFT, step: float = LEVIN_STEP) -> np.ndarray:
    """The shifts tried along each axis: ``-max_shift, -max_shift + step, ..., max_shift``.

    Examples:
        >>> shift_grid(1, 0.5).tolist()
        [-1.0, -0.5, 0.0, 0.5, 1.0]
    """
    if step <= 0 or max_shift < 0:
        raise ValueError(f"need step > 0 and max_shift >= 0, got step {step}, max {max_shift}")
    count = int(round(2 * max_shift / step))
    if not math.isclose(count * step, 2 * max_shift, abs_tol=1e-9):
        raise ValueError(f"max_shift {max_shift} is not a whole number of steps of {step}")
    return np.linspace(-max_shift, max_shift, count + 1)


def bilinear_window(
    image: np.ndarray, top: float, left: float, height: int, width: int
) -> np.ndarray:
    """``image`` sampled by bilinear interpolation at ``(top + i, left + j)`` for an
    ``height x width`` grid of whole ``i, j`` (every sample must lie inside the image).

    Shape:
        - image: :math:`(H, W)` or :math:`(H, W, C)`.
        - Output: :math:`(height, width)` or :math:`(height, width, C)`, float64.

    Examples:
        >>> ramp = np.arange(5.0)[None, :].repeat(3, axis=0)
        >>> bilinear_window(ramp, 0, 1.25, 1, 3).tolist()
        [[1.25, 2.25, 3.25]]
    """
    y0, x0 = math.floor(top), math.floor(left)
    fy, fx = top - y0, left - x0
    rows, cols = height + (fy > 0), width + (fx > 0)
    if y0 < 0 or x0 < 0 or y0 + rows > image.shape[0] or x0 + cols > image.shape[1]:
        raise ValueError(
            f"window at ({top}, {left}) of {height}x{width} leaves the image {image.shape[:2]}"
        )
    patch = image[y0 : y0 + rows, x0 : x0 + cols].astype(np.float64)
    if fy > 0:
        patch = (1 - fy) * patch[:-1] + fy * patch[1:]
    if fx > 0:
        patch = (1 - fx) * patch[:, :-1] + fx * patch[:, 1:]
    return patch


def subpixel_aligned_psnr(
    pred: np.ndarray,
    sharp: np.ndarray,
    max_shift: float = LEVIN_MAX_SHIFT,
    step: float = LEVIN_STEP,
    crop: int = LEVIN_CROP,
    y_channel: bool = False,
) -> SubpixelScore:
    """PSNR and SSIM after Levin et al.'s sub-pixel alignment (bilinear shifts).

    Every shift ``(dy, dx)`` of :func:`shift_grid` is tried; the one whose shifted
    ``pred`` has the smallest squared difference to ``sharp`` on the ``crop``-cropped
    frame is kept, and the scores are measured there.

    Args:
        pred: The restored image, floats in [0, 1].
        sharp: The sharp reference, same shape.
        max_shift: Largest shift tried along each axis, in pixels (Levin: 5).
        step: Spacing of the shifts tried, in pixels (Levin: 0.25).
        crop: Pixels dropped from every side of the sharp image (Levin: 15); at least
            ``ceil(max_shift) + 1`` so that every shifted sample lies inside ``pred``.
        y_channel: Score the BT.601 luma of both (after shifting) instead of RGB.

    Returns:
        ``(psnr, ssim, (dy, dx))``.

    Raises:
        ValueError: Shapes differ, the crop is too small for the shifts, or the
            cropped image is smaller than SSIM's 11x11 window.

    Shape:
        - pred, sharp: :math:`(H, W, 3)` (or :math:`(H, W)` without ``y_channel``).
    """
    if pred.shape != sharp.shape:
        raise ValueError(f"images differ in shape: {pred.shape} vs {sharp.shape}")
    shifts = shift_grid(max_shift, step)
    if crop < math.ceil(max_shift) + 1:
        raise ValueError(
            f"crop {crop} px is too small for shifts up to {max_shift} px: "
            f"use at least {math.ceil(max_shift) + 1}"
        )
    height, width = sharp.shape[0] - 2 * crop, sharp.shape[1] - 2 * crop
    if min(height, width) < 11:
        raise ValueError(
            f"image {sharp.shape[:2]} is too small for a {crop} px crop and an 11x11 SSIM window"
        )
    target = sharp[crop : crop + height, crop : crop + width].astype(np.float64)
    ssd = shifted_ssd(pred, target, crop, shifts)
    i, j = np.unravel_index(np.argmin(ssd), ssd.shape)  # the first of equals, row-major
    best = (float(shifts[i]), float(shifts[j]))
    aligned = np.clip(bilinear_window(pred, crop + best[0], crop + best[1], height, width), 0, 1)
    a, b = (luma(aligned), luma(target)) if y_channel else (aligned, target)
    return SubpixelScore(psnr(a, b), ssim(a, b), best)


def shifted_ssd(pred: np.ndarray, target: np.ndarray, crop: int, shifts: np.ndarray) -> np.ndarray:
    """Sum of squared differences between ``target`` and ``pred`` bilinearly shifted by
    every ``(shifts[i], shifts[j])``, the window starting at ``(crop, crop)``.

    Equal to evaluating :func:`bilinear_window` at each shift and summing the squared
    differences, but computed without resampling the image once per shift: a bilinear
    shift is a weighted sum of four whole-pixel shifts, so the squared norm of the
    shifted window and its product with ``target`` are weighted sums of whole-pixel
    correlations (box sums of products of ``pred`` with its neighbours, and products with
    ``target`` at the few whole-pixel offsets): 144 window products and 9 box-sum images
    instead of 1,681 resampled windows, so 720p frames are practical (time it on an idle
    machine before quoting a figure).

    Shape:
        - pred: :math:`(H, W)` or :math:`(H, W, C)`.
        - target: :math:`(h, w)` or :math:`(h, w, C)`, inside ``pred`` at ``(crop, crop)``.
        - Output: :math:`(S, S)` for ``S = len(shifts)``, indexed ``[dy, dx]``.
    """
    p = pred.astype(np.float64).reshape(*pred.shape[:2], -1)
    t = target.astype(np.float64).reshape(*target.shape[:2], -1)
    height, width = t.shape[:2]
    whole = np.floor(shifts).astype(int)
    frac = shifts - whole
    lo, hi = crop + whole.min(), crop + whole.max() + 1  # whole-pixel window corners needed
    if lo < 1 or hi + height + 1 > p.shape[0] or hi + width + 1 > p.shape[1]:
        raise ValueError(f"shifts up to {np.abs(shifts).max()} px leave the image: crop more")
    count = hi - lo + 1
    cross = np.empty((count, count))
    for i in range(count):
        for j in range(count):
            window = p[lo + i : lo + i + height, lo + j : lo + j + width]
            cross[i, j] = np.vdot(window, t)
    rows, cols = slice(lo, hi + height), slice(lo, hi + width)
    boxes = {}
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            near = p[lo + dy : hi + height + dy, lo + dx : hi + width + dx]
            product = np.einsum("yxc,yxc->yx", p[rows, cols], near)
            s = np.pad(product.cumsum(axis=0).cumsum(axis=1), ((1, 0), (1, 0)))
            boxes[dy, dx] = (
                s[height : height + count, width : width + count]
                - s[:count, width : width + count]
                - s[height : height + count, :count]
                + s[:count, :count]
            )
    weights = (1 - frac, frac)  # of the pixel at the whole shift and of the next one
    at = whole - whole.min()  # index of each shift's whole-pixel corner in cross / boxes
    dot = np.zeros((len(shifts), len(shifts)))
    norm = np.zeros_like(dot)
    for a in (0, 1):
        for b in (0, 1):
            w_ab = np.outer(weights[a], weights[b])
            dot += w_ab * cross[np.ix_(at + a, at + b)]
            for a2 in (0, 1):
                for b2 in (0, 1):
                    w = w_ab * np.outer(weights[a2], weights[b2])
                    norm += w * boxes[a2 - a, b2 - b][np.ix_(at + a, at + b)]
    return norm - 2 * dot + float(np.vdot(t, t))
