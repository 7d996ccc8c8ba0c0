"""Image quality metrics, computed the standard way.

- PSNR on 8-bit values: images in [0, 1] are rounded to 0..255 first, data range 255.
- SSIM of Wang et al. (2004): Gaussian window with sigma 1.5 (truncated at
  3.5 sigma: 11x11), K1 = 0.01, K2 = 0.03, data range 255, population
  (not sample) covariances, the map averaged after dropping the 5-pixel border
  the window cannot cover, per channel, then averaged over channels. This is
  scikit-image's ``structural_similarity(..., gaussian_weights=True, sigma=1.5,
  use_sample_covariance=False, data_range=255)``.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter

_SIGMA, _TRUNCATE, _K1, _K2, _RANGE = 1.5, 3.5, 0.01, 0.03, 255.0


def to_uint8_values(image: np.ndarray) -> np.ndarray:
    """Float64 values on the 0..255 grid: floats in [0, 1] are rounded, uint8 kept."""
    if image.dtype == np.uint8:
        return image.astype(np.float64)
    return np.rint(np.clip(image, 0.0, 1.0) * 255.0)


def psnr(restored: np.ndarray, reference: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB on 8-bit values (``inf`` for identical images).

    Examples:
        >>> a = np.zeros((4, 4), np.uint8); b = a.copy(); b[0, 0] = 16
        >>> round(psnr(a, b), 2)  # MSE = 16^2 / 16 = 16
        36.09
    """
    _check_shapes(restored, reference)
    mse = np.mean((to_uint8_values(restored) - to_uint8_values(reference)) ** 2)
    return float("inf") if mse == 0 else float(10.0 * np.log10(_RANGE**2 / mse))


def ssim(restored: np.ndarray, reference: np.ndarray) -> float:
    """Mean structural similarity on 8-bit values, averaged over channels.

    Shape:
        - Inputs: :math:`(H, W)` or :math:`(H, W, C)`, both at least 11x11.
    """
    _check_shapes(restored, reference)
    x, y = to_uint8_values(restored), to_uint8_values(reference)
    if x.ndim == 2:
        x, y = x[..., None], y[..., None]
    if min(x.shape[:2]) < 11:
        raise ValueError(f"SSIM needs images of at least 11x11, got {x.shape[:2]}")
    return float(np.mean([_ssim_channel(x[..., c], y[..., c]) for c in range(x.shape[2])]))


def _ssim_channel(x: np.ndarray, y: np.ndarray) -> float:
    def blur(v: np.ndarray) -> np.ndarray:
        return gaussian_filter(v, _SIGMA, truncate=_TRUNCATE, mode="reflect")

    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    c1, c2 = (_K1 * _RANGE) ** 2, (_K2 * _RANGE) ** 2
    ssim_map = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    border = int(_TRUNCATE * _SIGMA + 0.5)  # 5: where the window is incomplete
    return float(ssim_map[border:-border, border:-border].mean())


def _check_shapes(a: np.ndarray, b: np.ndarray) -> None:
    if a.shape != b.shape:
        raise ValueError(f"images differ in shape: {a.shape} vs {b.shape}")
