"""What blind deconvolution looks at: linear light, normalised contrast, pixels that are
evidence about the blur and the edges that are most useful to estimate it from.

- Blur happens in linear light (a camera integrates light, then encodes it): decoding with
  a display gamma before estimation and deconvolution is what keeps bright edges from
  ringing (Tai et al. 2013; Pan et al. 2014's ``gamma_correct``).
- The L0 weight prices absolute gradients: a dark or low-contrast photo would be
  regularised as if its weight were about 1/contrast^2 larger. Stretching the luminance to
  [0, 1] first (as the IPOL implementation of Anger et al. 2019 does) makes the weight mean
  the same on every photo.
- Clipped highlights break the blur model (the light that fell there is unknown), so the
  pixels within a kernel's reach of one are no evidence (Cho et al. 2011; Pan et al. 2016).
- Edges narrower than the blur are no evidence either: Xu and Jia (2010)'s usefulness
  :math:`r = \\|\\sum_N \\nabla B\\| / (\\sum_N \\|\\nabla B\\| + 0.5)` is high along
  long, straight, isolated edges and low on texture, so the estimation window is chosen by
  the gradient of useful edges instead of all gradient.
"""

from __future__ import annotations

import cv2
import numpy as np

from deblurgan.deconv.nonblind import CLIPPED
from deblurgan.deconv.threads import by_rows

USEFULNESS_REACH = 5  # half side of the neighbourhood of Xu and Jia's r-map, pixels
USEFUL = 0.5  # r at or above this: a useful edge (isolated noise and texture stay far below)


def to_linear(image: np.ndarray, gamma: float) -> np.ndarray:
    """Decode display values to linear light: ``image ** gamma`` (identity for gamma 1).

    Examples:
        >>> float(to_linear(np.float32([0.5]), 2.0)[0])
        0.25
    """
    if gamma == 1.0:
        return image.astype(np.float32, copy=False)
    return _clipped_power(image, np.float32(gamma))


def from_linear(image: np.ndarray, gamma: float) -> np.ndarray:
    """Encode linear light for display: the inverse of :func:`to_linear`."""
    if gamma == 1.0:
        return image.astype(np.float32, copy=False)
    return _clipped_power(image, np.float32(1.0 / gamma))


def _clipped_power(image: np.ndarray, exponent: np.float32) -> np.ndarray:
    """``clip(image, 0, 1) ** exponent`` in float32, in bands of rows at once on a large
    image (:func:`~deblurgan.deconv.threads.by_rows`: the same values as one pass)."""
    if np.ndim(image) == 0:
        return np.clip(image, 0.0, 1.0).astype(np.float32) ** exponent
    out = np.empty(np.shape(image), np.float32)

    def power(first: int, stop: int) -> None:
        out[first:stop] = np.clip(image[first:stop], 0.0, 1.0).astype(np.float32) ** exponent

    by_rows(power, image.shape[0], image.size)
    return out


def normalise_contrast(gray: np.ndarray, tail: float = 0.1) -> np.ndarray:
    """``gray`` stretched so its ``tail`` and ``100 - tail`` percentiles become 0 and 1 (not
    clipped: the blur stays linear). A flat image is returned shifted to 0.

    Examples:
        >>> dim = np.linspace(0.40, 0.45, 1000, dtype=np.float32).reshape(10, 100)
        >>> out = normalise_contrast(dim)
        >>> round(float(out.min()), 2), round(float(out.max()), 2)
        (-0.0, 1.0)
    """
    low, high = np.percentile(gray, [tail, 100.0 - tail])
    return ((gray - low) / max(float(high - low), 1e-6)).astype(np.float32)


def reliable_pixels(gray: np.ndarray, reach: int) -> np.ndarray | None:
    """1 where a pixel is no closer than ``reach`` pixels to a clipped one (encoded value
    at least :data:`CLIPPED`), 0 near one; None when nothing is clipped.

    Shape:
        - Input: :math:`(H, W)` display values; output :math:`(H, W)` float32.
    """
    clipped = gray >= CLIPPED
    if not clipped.any():
        return None
    side = 2 * max(int(reach), 0) + 1
    near = cv2.dilate(clipped.astype(np.uint8), np.ones((side, side), np.uint8))
    return (near == 0).astype(np.float32)


def edge_usefulness(gray: np.ndarray, reach: int = USEFULNESS_REACH) -> np.ndarray:
    """Gradient magnitude where Xu and Jia's usefulness :math:`r` over a
    ``(2 reach + 1)^2`` neighbourhood is at least :data:`USEFUL` (long straight edges),
    0 elsewhere (fine texture and noise, whose gradients cancel in the sum).

    Shape:
        - Input: :math:`(H, W)`; output the same, float32.
    """
    gy, gx = np.gradient(gray.astype(np.float32))
    magnitude = np.hypot(gx, gy)
    side = (2 * reach + 1,) * 2
    sum_x = cv2.boxFilter(gx, -1, side, normalize=False, borderType=cv2.BORDER_REFLECT)
    sum_y = cv2.boxFilter(gy, -1, side, normalize=False, borderType=cv2.BORDER_REFLECT)
    total = cv2.boxFilter(magnitude, -1, side, normalize=False, borderType=cv2.BORDER_REFLECT)
    usefulness = np.hypot(sum_x, sum_y) / (total + 0.5)
    return np.where(usefulness >= USEFUL, magnitude, 0.0).astype(np.float32)
