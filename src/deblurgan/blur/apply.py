"""Blurring one image with a kernel (numpy): FFT convolution without dark borders.

The image is extended by mirror reflection before convolving, so pixels near
the border are averaged with plausible neighbours instead of black. Unlike
the authors' code there is no min-max contrast stretch, any size and aspect
ratio works, and the kernel's centre pixel (``size // 2``) is the origin, so
a centred kernel does not shift the image.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import fftconvolve

from deblurgan.blur.frames import DISPLAY_GAMMA


def kernel_padding(kernel_shape: tuple[int, int]) -> tuple[tuple[int, int], tuple[int, int]]:
    """Rows and columns to add ``(before, after)`` so that pixel ``k // 2`` is the origin."""
    return tuple((k - 1 - k // 2, k // 2) for k in kernel_shape)  # type: ignore[return-value]


def blur_image(
    image: np.ndarray,
    kernel: np.ndarray,
    linear_light: bool = False,
    gamma: float = DISPLAY_GAMMA,
    noise_std: float = 0.0,
    poisson_peak: float | None = None,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Convolve every channel of ``image`` with ``kernel``, optionally add noise.

    Args:
        image: uint8, uint16 or float (in [0, 1]) pixels.
        kernel: 2-D non-negative kernel, normally summing to 1; origin at ``k // 2``.
        linear_light: Blur in linear light (decode ``x ** gamma`` first,
            re-encode after), as a camera integrates light.
        gamma: The display gamma for ``linear_light``.
        noise_std: Standard deviation of additive Gaussian noise, in [0, 1] units.
        poisson_peak: If set, shot noise: the photon count at white (smaller is noisier).
        rng: Source of randomness; required when noise is requested.

    Returns:
        The blurred image, same shape and dtype as ``image``, clipped to range.

    Shape:
        - Input: :math:`(H, W)` or :math:`(H, W, C)`; kernel :math:`(k_h, k_w)`.
        - Output: the input's shape.

    Examples:
        >>> delta = np.zeros((5, 5)); delta[2, 2] = 1
        >>> img = np.random.default_rng(0).random((7, 9))
        >>> bool(np.allclose(blur_image(img, delta), img, atol=1e-6))  # FFT rounding
        True
    """
    if kernel.ndim != 2:
        raise ValueError(f"kernel must be 2-D, got shape {kernel.shape}")
    if image.ndim not in (2, 3) or min(image.shape[:2]) < 1:
        raise ValueError(f"image must be (H, W) or (H, W, C), got shape {image.shape}")
    if (noise_std > 0 or poisson_peak is not None) and rng is None:
        raise ValueError("noise was requested: pass rng=np.random.Generator(...)")
    scale = integer_scale(image.dtype)
    pixels = image.astype(np.float32) / np.float32(scale)
    if linear_light:
        pixels = pixels**gamma
    (top, bottom), (left, right) = kernel_padding(kernel.shape)
    pad = [(top, bottom), (left, right)] + [(0, 0)] * (image.ndim - 2)
    padded = np.pad(pixels, pad, mode="reflect" if min(image.shape[:2]) > 1 else "edge")
    k = kernel.astype(np.float32).reshape(kernel.shape + (1,) * (image.ndim - 2))
    blurred = fftconvolve(padded, k, mode="valid", axes=(0, 1))
    blurred = add_noise(np.clip(blurred, 0.0, None), noise_std, poisson_peak, rng)
    if linear_light:
        blurred = np.clip(blurred, 0.0, None) ** (1.0 / gamma)
    blurred = np.clip(blurred, 0.0, 1.0)
    if scale == 1:
        return blurred.astype(image.dtype, copy=False)
    return np.rint(blurred * scale).astype(image.dtype)


def add_noise(
    pixels: np.ndarray,
    noise_std: float = 0.0,
    poisson_peak: float | None = None,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Shot (Poisson) then read (Gaussian) noise on non-negative float pixels in [0, 1] units."""
    if poisson_peak is not None:
        if poisson_peak <= 0:
            raise ValueError(f"poisson_peak must be positive, got {poisson_peak}")
        pixels = rng.poisson(pixels * poisson_peak).astype(np.float32) / np.float32(poisson_peak)
    if noise_std > 0:
        pixels = pixels + rng.normal(0.0, noise_std, pixels.shape).astype(np.float32)
    return pixels


def integer_scale(dtype: np.dtype) -> float:
    """255 for uint8, 65535 for uint16, 1 for float pixels; other dtypes are refused."""
    if dtype == np.uint8:
        return 255.0
    if dtype == np.uint16:
        return 65535.0
    if np.issubdtype(dtype, np.floating):
        return 1
    raise ValueError(f"unsupported image dtype {dtype}; use uint8, uint16 or float")
