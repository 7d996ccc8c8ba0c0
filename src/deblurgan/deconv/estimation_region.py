"""Where and at what size ``l0`` estimates a kernel: the automatic kernel side, the largest
an image allows, and the window with the most edges."""

from __future__ import annotations

import cv2
import numpy as np

from deblurgan.deconv.preprocess import edge_usefulness


def kernel_size_limit(height: int, width: int) -> int:
    """The largest kernel side an image can be estimated with: a seventh of the shorter
    side (odd, at least 3).

    Examples:
        >>> kernel_size_limit(255, 255), kernel_size_limit(720, 1280), kernel_size_limit(20, 30)
        (35, 101, 3)
    """
    cap = min(height, width) // 7
    return max(cap - (cap % 2 == 0), 3)


def automatic_kernel_size(height: int, width: int) -> int:
    """The kernel side used when none is given: 31 pixels (enough for the camera shake of
    Levin et al.'s benchmark, up to 27 pixels, and of most hand-held photos up to 1240
    pixels long), 2.5% of the longer side for larger images, and never more than a seventh
    of the shorter side (the estimate needs several kernel widths of image); always odd.
    The estimate is cropped to the support it needs
    (:func:`~deblurgan.deconv.kernel_shape.crop_to_support`), so this is where the estimate
    starts. (On the training photos 35 scored +1.79 dB against +1.53,
    within the noise of 36 photos; on Levin, measured afterwards, it lost 0.49 dB: 31
    stays.)

    Examples:
        >>> automatic_kernel_size(255, 255), automatic_kernel_size(720, 1280)
        (31, 33)
        >>> automatic_kernel_size(3000, 4000), automatic_kernel_size(40, 60)
        (101, 5)
    """
    preferred = max(31, int(round(0.025 * max(height, width)))) | 1
    return min(preferred, kernel_size_limit(height, width))


def edge_window(
    gray: np.ndarray, side: int, useful: bool = False, reliable: np.ndarray | None = None
) -> tuple[int, int]:
    """Top-left corner of the ``side x side`` window holding the most gradient magnitude
    (with ``useful``, weighted by Xu and Jia's edge usefulness), counting only ``reliable``
    pixels when a 0/1 map is given.

    Shape:
        - Input: :math:`(H, W)`.
    """
    height, width = gray.shape
    if side >= height and side >= width:
        return 0, 0
    if useful:
        magnitude = edge_usefulness(gray)
    else:
        gy, gx = np.gradient(gray.astype(np.float32))
        magnitude = np.hypot(gx, gy)
    if reliable is not None:
        magnitude = magnitude * reliable
    sh, sw = min(side, height), min(side, width)
    integral = cv2.integral(magnitude, sdepth=cv2.CV_64F)
    sums = integral[sh:, sw:] - integral[:-sh, sw:] - integral[sh:, :-sw] + integral[:-sh, :-sw]
    y, x = np.unravel_index(int(np.argmax(sums)), sums.shape)
    return int(y), int(x)
