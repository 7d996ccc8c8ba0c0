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
    """How far ``kernel``'s centre of mass lies from its centre pixel ``k // 2``, in pixels
    (rows, columns).

    Examples:
        >>> k = np.zeros((5, 5)); k[2, 2] = k[2, 3] = 0.5
        >>> centre_of_mass_offset(k)
        (0.0, 0.5)

    Shape:
        - Input: :math:`(k, k)`, non-negative with a positive sum.
    """
    weights = np.asarray(kernel, np.float64)
    total = float(weights.sum())
    if not total > 0:
        raise ValueError("the kernel must have a positive sum")
    rows, cols = np.indices(weights.shape)
    centre_row, centre_col = weights.shape[0] // 2, weights.shape[1] // 2
    return (
        float((rows * weights).sum()) / total - centre_row,
        float((cols * weights).sum()) / total - centre_col,
    )


def register_to_centroid(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Shift ``image``, deconvolved with ``kernel``, by the kernel's centre-of-mass offset
    (Lanczos interpolation, borders reflected), so that it sits where the blur is centred
    rather than where the kernel's centre pixel put it.

    Args:
        image: The deconvolved image in [0, 1].
        kernel: The kernel it was deconvolved with, origin at ``k // 2``.

    Returns:
        The registered image, float32 in [0, 1]; ``image`` itself when the offset is zero.

    Shape:
        - Input: :math:`(H, W)` or :math:`(H, W, C)` and :math:`(k, k)`.
        - Output: the input's shape.
    """
    rows, cols = centre_of_mass_offset(kernel)
    if rows == 0.0 and cols == 0.0:
        return image
    shift = np.float32([[1, 0, cols], [0, 1, rows]])  # out(p) = image(p - offset)
    source = np.ascontiguousarray(image, dtype=np.float32)
    height, width = source.shape[:2]
    shifted = cv2.warpAffine(
        source, shift, (width, height), flags=cv2.INTER_LANCZOS4, borderMode=cv2.BORDER_REFLECT
    )
    return np.clip(shifted.reshape(source.shape), 0.0, 1.0)
