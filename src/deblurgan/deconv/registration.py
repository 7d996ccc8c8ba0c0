"""Where a deblurred image sits: registered with the blur's centre of mass.

A blind estimate knows the kernel's shape but not where the sharp image was during the
exposure: any shift of the kernel explains the blurred photo as well, with the sharp image
shifted the other way. The estimate's kernels are centred on their centre of mass to the
nearest pixel, which leaves the deblurred image up to half a pixel away from the position
the blur is centred on. That position is the natural one: for steady motion it is the
middle of the exposure (the sharp frame of frame-averaged data such as GoPro's), and it is
where ``deblurgan.blur``'s synthesis puts the sharp image. :func:`register_to_centroid`
moves the deblurred image there, by the kernel's sub-pixel centre-of-mass offset.
"""

from __future__ import annotations

import cv2
import numpy as np


def centre_of_mass_offset(kernel: np.ndarray) -> tuple[float, float]:
    """How far ``kernel``'s centre of mass lies from its centre pixel ``k // 2``.

    The mass is summed in the kernel's own precision (a float32 kernel's centre pixel is
    chosen exactly as before this function existed).

    Returns:
        The offset in pixels, (rows, columns): positive is down and right.

    Examples:
        >>> k = np.zeros((5, 5)); k[2, 2] = k[2, 3] = 0.5
        >>> centre_of_mass_offset(k)
        (0.0, 0.5)

    Shape:
        - Input: :math:`(k_h, k_w)`, non-negative with a positive sum.
    """
    kernel = np.asarray(kernel)
    total = float(kernel.sum())
    if not total > 0:
        raise ValueError("the kernel must have a positive sum")
    rows, cols = np.indices(kernel.shape)
    return (
        float((rows * kernel).sum()) / total - kernel.shape[0] // 2,
        float((cols * kernel).sum()) / total - kernel.shape[1] // 2,
    )


# cv2.warpAffine resolves shifts to 1/32 px: an offset under half that moves nothing.
SMALLEST_SHIFT = 1.0 / 64.0


def register_to_centroid(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Shift ``image``, deconvolved with ``kernel``, by the kernel's centre-of-mass offset
    (Lanczos interpolation, to 1/32 px, borders reflected), so that it sits where the blur
    is centred rather than where the kernel's centre pixel put it.

    Args:
        image: The deconvolved image in [0, 1].
        kernel: The kernel it was deconvolved with, origin at ``k // 2``.

    Returns:
        The registered image, float32 in [0, 1] (unshifted when the offset is under
        :data:`SMALLEST_SHIFT` in both directions).

    Shape:
        - Input: :math:`(H, W)` or :math:`(H, W, C)` and :math:`(k, k)`.
        - Output: the input's shape.
    """
    rows, cols = centre_of_mass_offset(kernel)
    source = np.asarray(image, dtype=np.float32)
    if max(abs(rows), abs(cols)) < SMALLEST_SHIFT:
        return np.clip(source, 0.0, 1.0)
    shift = np.float32([[1, 0, cols], [0, 1, rows]])  # out(p) = image(p - offset)
    height, width = source.shape[:2]
    planes = source.reshape(height, width, -1)
    shifted = np.empty_like(planes)
    for first in range(0, planes.shape[2], 4):  # warpAffine takes up to 4 channels at once
        group = slice(first, first + 4)
        moved = cv2.warpAffine(
            np.ascontiguousarray(planes[..., group]),
            shift,
            (width, height),
            flags=cv2.INTER_LANCZOS4,
            borderMode=cv2.BORDER_REFLECT,
        )
        shifted[..., group] = moved.reshape(height, width, -1)
    np.clip(shifted, 0.0, 1.0, out=shifted)
    return shifted.reshape(source.shape)
