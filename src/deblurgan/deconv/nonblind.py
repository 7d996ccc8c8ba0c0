"""Non-blind deconvolution with a hyper-Laplacian gradient prior (Krishnan and Fergus,
NeurIPS 2009): :math:`\\min_x \\frac{\\lambda}{2} \\|k * x - y\\|^2 + \\sum |\\nabla x|^\\alpha`,
by half-quadratic splitting with FFT image steps and a look-up table for the per-pixel
gradient step.

Borders are handled by a smooth periodic extension
(:func:`~deblurgan.deconv.fourier.periodic_extension`); clipped highlights are left out of
the data term (Cho et al., ICCV 2011, treat them as outliers): pixels whose blurred
neighbourhood touched the clipping level are replaced, at every iteration, by the current
estimate re-blurred, so they constrain nothing. The data weight follows the noise level
(:func:`estimate_noise`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import cv2
import numpy as np

from deblurgan.deconv.fourier import (
    crop,
    gradient_energy,
    irfft2,
    periodic_extension,
    psf_to_otf,
    rfft2,
)
from deblurgan.deconv.stencils import shrunk_divergence, splitting_solve

ALPHA = 2.0 / 3.0  # the hyper-Laplacian exponent Krishnan and Fergus recommend
BETA_START, BETA_MAX, BETA_RATE = 1.0, 256.0, 2.0 * np.sqrt(2.0)
CLIPPED = 0.985  # blurred values at or above this are treated as clipped


def estimate_noise(gray: np.ndarray) -> float:
    """Standard deviation of white noise in ``gray`` (Immerkaer, 1996): the mean absolute
    response of a Laplacian-difference mask that cancels smooth structure, scaled to sigma,
    over the pixels away from the strongest edges (the 10% largest gradients are left out,
    as Tai and Yang, 2008, suggest, since edges leak through the mask).

    Raises:
        ValueError: ``gray`` is not one 2-D channel.

    Examples:
        >>> rng = np.random.default_rng(0)
        >>> round(estimate_noise(0.5 + 0.02 * rng.standard_normal((256, 256))), 3)
        0.02
    """
    image = np.asarray(gray, np.float32)
    if image.ndim != 2:
        raise ValueError(f"expected one (H, W) channel, got shape {image.shape}")
    mask = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)  # symmetric: no flip
    # OpenCV's filters: 2-3x faster than scipy.ndimage's at 720p-12 MP, the same value at
    # 720p and 1.6e-7 apart at 12 MP (float32 sums). The border rows and columns, where the
    # border rules differ, are left out.
    response = cv2.filter2D(image, cv2.CV_32F, mask)[1:-1, 1:-1]
    vertical, horizontal = (cv2.Sobel(image, cv2.CV_32F, dx, 1 - dx) for dx in (0, 1))
    edges = cv2.magnitude(vertical, horizontal)[1:-1, 1:-1]
    calm = edges <= np.percentile(edges, 90)
    return float(np.sqrt(np.pi / 2) * np.mean(np.abs(response[calm])) / 6.0)


def data_weight(noise: float, scale: float = 0.2) -> float:
    """:math:`\\lambda` for a noise level: ``scale / sigma^2`` (2000 at 1% noise, as Krishnan
    and Fergus), within [200, 3000]: at most Krishnan and Fergus' setting for real photos,
    whose blur is never exactly the model."""
    return float(np.clip(scale / max(noise, 1e-4) ** 2, 200.0, 3000.0))


SHRINK_REACH, SHRINK_STEPS = 2.0, 4096  # look-up table of the gradient step: |v| in [0, 2]


def noise_data_weight(gray: np.ndarray) -> float:
    """:func:`data_weight` of the noise :func:`estimate_noise` finds in ``gray``."""
    return data_weight(estimate_noise(gray))


@functools.lru_cache(maxsize=32)
def _shrinkage_table(beta: float, alpha: float = ALPHA) -> np.ndarray:
    """Minimisers :math:`w^*(v) = \\arg\\min_w |w|^\\alpha + \\frac{\\beta}{2}(w - v)^2` for
    ``v`` on a uniform grid of [0, :data:`SHRINK_REACH`] (odd in ``v``), by dense search."""
    v = np.linspace(0.0, SHRINK_REACH, SHRINK_STEPS + 1)
    w = v[:, None] * np.linspace(0.0, 1.0, 1025)[None, :]  # candidates between 0 and v
    energy = np.abs(w) ** alpha + 0.5 * beta * (w - v[:, None]) ** 2
    return w[np.arange(v.size), energy.argmin(axis=1)].astype(np.float32)


def shrink(values: np.ndarray, beta: float, alpha: float = ALPHA) -> np.ndarray:
    """The hyper-Laplacian proximal step, elementwise: linear interpolation in a uniform
    look-up table (beyond it, values are shrunk by the table's last offset, the asymptote)."""
    table = _shrinkage_table(float(beta), float(alpha))
    magnitude = np.abs(values)
    position = np.minimum(magnitude, SHRINK_REACH) * np.float32(SHRINK_STEPS / SHRINK_REACH)
    index = np.minimum(position.astype(np.int32), SHRINK_STEPS - 1)
    fraction = position - index
    low = table[index]
    out = low + fraction * (table[index + 1] - low)
    out += np.maximum(magnitude - SHRINK_REACH, 0.0)  # beyond the table: the same offset
    return np.copysign(out, values).astype(np.float32, copy=False)


def deconvolve(
    blurred: np.ndarray,
    kernel: np.ndarray,
    weight: float | None = None,
    alpha: float = ALPHA,
    mask_clipped: bool = True,
    step: Callable[[float], None] | None = None,
    clip_level: float = CLIPPED,
) -> np.ndarray:
    """Deconvolve one channel with a known kernel under a hyper-Laplacian prior.

    Args:
        blurred: One channel in [0, 1].
        kernel: Non-negative kernel summing to 1, origin at ``k // 2`` (convolution).
        weight: The data weight :math:`\\lambda`; None: from :func:`estimate_noise`.
        alpha: The prior's exponent (2/3; 1 is total variation).
        mask_clipped: Leave pixels near clipped highlights out of the data term.
        clip_level: Values at or above this count as clipped.
        step: Called with the fraction of iterations done before each iteration (it may
            raise to stop the work).

    Returns:
        The sharp estimate, float32, clipped to [0, 1].

    Shape:
        - Input: :math:`(H, W)` and :math:`(k, k)`.
        - Output: :math:`(H, W)`.
    """
    if weight is None:
        weight = noise_data_weight(blurred)
    size = max(kernel.shape)
    extended, offsets = periodic_extension(blurred, size)
    shape = extended.shape
    kernel_otf = psf_to_otf(kernel, shape)
    smooth = gradient_energy(shape)
    data_numerator = (weight * np.conj(kernel_otf)).astype(np.complex64)
    data_denominator = (weight * np.abs(kernel_otf) ** 2).astype(np.float32)
    reliable = _reliable_pixels(extended, kernel, clip_level) if mask_clipped else None
    observed = rfft2(extended)
    # A named operand: with the FFT's temporary as operand, numpy multiplies in place, which
    # rounds differently (by up to 1e-4 on a 720p result).
    numerator = data_numerator * observed
    latent, spectrum = extended, None
    beta = BETA_START
    iterations = int(np.log(BETA_MAX / BETA_START) / np.log(BETA_RATE) + 1.0001)
    for iteration in range(iterations):
        if step is not None:
            step(iteration / iterations)
        shrunk = shrunk_divergence(latent, _shrinkage_table(beta, alpha), SHRINK_REACH)
        if reliable is not None and spectrum is not None:  # clipped: the estimate re-blurred
            reblurred = irfft2(kernel_otf * spectrum, shape)
            observed = rfft2(np.where(reliable, extended, reblurred))
            numerator = data_numerator * observed
        spectrum = splitting_solve(numerator, rfft2(shrunk), beta, data_denominator, smooth)
        latent = irfft2(spectrum, shape).astype(np.float32, copy=False)
        beta *= BETA_RATE
    return np.clip(crop(latent, offsets, blurred.shape), 0.0, 1.0)


def _reliable_pixels(
    blurred: np.ndarray, kernel: np.ndarray, clip_level: float = CLIPPED
) -> np.ndarray | None:
    """False near clipped pixels (within the kernel's reach), None if nothing is clipped."""
    clipped = blurred >= clip_level
    if not clipped.any():
        return None
    footprint = np.ascontiguousarray((kernel[::-1, ::-1] > 0).astype(np.uint8))
    return cv2.dilate(clipped.astype(np.uint8), footprint) == 0  # dilate reflects: undo it
