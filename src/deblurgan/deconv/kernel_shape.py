"""Blur kernels as arrays: the identity, a raw estimate made a blur kernel (non-negative,
no faint values or small pieces, summing to 1, centred), centring by whole or sub-pixel
shifts, cropping to the support, resampling.
"""

from __future__ import annotations

import cv2
import numpy as np
import scipy.ndimage

from deblurgan.deconv.registration import centre_of_mass_offset


def clean_kernel(
    kernel: np.ndarray, floor: float = 0.05, min_piece: float = 0.1, centre: bool = True
) -> np.ndarray:
    """Make a raw kernel estimate a blur kernel: negative values and values below ``floor``
    times the maximum become 0, 8-connected pieces holding less than ``min_piece`` of the
    mass are removed (the largest always stays), the rest is normalised to sum 1 and
    shifted (whole pixels) so that its centre of mass is the centre pixel.

    Examples:
        >>> k = np.zeros((5, 5), np.float32); k[0, 0] = 1.0
        >>> centred = clean_kernel(k)
        >>> float(centred[2, 2]), float(centred.sum())
        (1.0, 1.0)
    """
    k = np.where(kernel >= floor * max(float(kernel.max()), 0.0), kernel, 0.0)
    k = np.maximum(k, 0.0).astype(np.float32)
    total = float(k.sum())
    if total <= 0:
        return delta_kernel(kernel.shape[0])
    labels, count = scipy.ndimage.label(k > 0, structure=np.ones((3, 3)))
    if count > 1:
        mass = scipy.ndimage.sum(k, labels, index=np.arange(1, count + 1)) / total
        keep = (mass >= min_piece) | (mass == mass.max())
        k = np.where(keep[labels - 1] & (labels > 0), k, 0.0).astype(np.float32)
    k = (k / k.sum()).astype(np.float32)
    return centre_kernel(k) if centre else k


def centre_kernel_subpixel(kernel: np.ndarray) -> np.ndarray:
    """Shift ``kernel`` (bilinear, sub-pixel) so that its centre of mass is exactly the
    centre pixel; mass shifted past the edge is dropped and the rest renormalised."""
    rows, cols = centre_of_mass_offset(kernel)
    shifted = scipy.ndimage.shift(
        kernel.astype(np.float64), (-rows, -cols), order=1, mode="constant"
    )
    shifted = np.maximum(shifted, 0.0)
    return (shifted / max(float(shifted.sum()), 1e-12)).astype(np.float32)


def centre_kernel(kernel: np.ndarray) -> np.ndarray:
    """Shift ``kernel`` by whole pixels so that its centre of mass is the centre pixel
    (mass shifted past the edge is dropped and the rest renormalised)."""
    rows, cols = centre_of_mass_offset(kernel)
    dy, dx = -int(round(rows)), -int(round(cols))
    if dy == 0 and dx == 0:
        return kernel
    shifted = scipy.ndimage.shift(kernel, (dy, dx), order=0, mode="constant", cval=0.0)
    return (shifted / max(float(shifted.sum()), 1e-12)).astype(np.float32)


def crop_to_support(kernel: np.ndarray, floor: float = 0.02, margin: int = 2) -> np.ndarray:
    """The kernel's size chosen from its own support: the smallest odd square about the
    centre holding every value above ``floor`` of the peak, plus ``margin`` pixels (never
    larger than the kernel, at least 3), renormalised.

    Examples:
        >>> k = np.zeros((31, 31), np.float32); k[15, 13:18] = 0.2
        >>> crop_to_support(k).shape
        (9, 9)
    """
    centre = kernel.shape[0] // 2
    rows, cols = np.nonzero(kernel > floor * float(kernel.max()))
    if rows.size == 0:
        return kernel
    reach = int(max(np.abs(rows - centre).max(), np.abs(cols - centre).max())) + margin
    reach = min(max(reach, 1), centre)
    cropped = kernel[centre - reach : centre + reach + 1, centre - reach : centre + reach + 1]
    return (cropped / max(float(cropped.sum()), 1e-12)).astype(np.float32)


def delta_kernel(size: int) -> np.ndarray:
    """The identity kernel: 1 at the centre pixel of a ``size x size`` square."""
    k = np.zeros((size, size), np.float32)
    k[size // 2, size // 2] = 1.0
    return k


def resize_kernel(kernel: np.ndarray, size: int) -> np.ndarray:
    """``kernel`` resampled (bilinear) to ``size x size``, non-negative, summing to 1."""
    resized = cv2.resize(kernel, (size, size), interpolation=cv2.INTER_LINEAR)
    resized = np.maximum(resized, 0.0)
    return centre_kernel((resized / max(float(resized.sum()), 1e-12)).astype(np.float32))
