"""Ringing suppression for deconvolution with an estimated kernel (Pan, Hu, Su and Yang,
CVPR 2014, the final step of their text deblurring): an imperfect kernel makes the
hyper-Laplacian deconvolution ripple beside strong edges; the same image deconvolved
under an L0 gradient prior is piecewise smooth and has no ripples (but loses fine
texture). The difference of the two holds the ripples and the texture; filtered with an
edge-preserving bilateral filter it keeps the ripples' smooth swell and loses the texture's
fine detail, so subtracting it from the hyper-Laplacian image removes mostly ripples:

.. math:: x = x_\\alpha - s \\cdot \\mathrm{BF}(x_\\alpha - x_0)

where :math:`x_\\alpha` is :func:`~deblurgan.deconv.nonblind.deconvolve`'s result,
:math:`x_0` :func:`l0_deconvolve`'s and :math:`s` the strength (1 in Pan et al.).
"""

from __future__ import annotations

import cv2
import numpy as np

from deblurgan.deconv.fourier import crop, periodic_extension, psf_to_otf
from deblurgan.deconv.kernel_estimation import l0_latent
from deblurgan.deconv.nonblind import CLIPPED

L0_WEIGHT = 1e-3  # the L0 image's price of one non-zero gradient (Pan et al.: 1e-4 to 2e-3)
L0_KAPPA = 4.0  # the L0 solver's penalty growth per iteration (Pan et al.: 2; 4: half the work)
# The L0 solver stops when its penalty passes this (8 iterations instead of 13 up to
# l0_latent's 1e5): x0 is only a ripple-free reference. On three draws of training crops,
# 1e2 gained 0.02 dB more than 1e5 on each, 1e3 0.01 (docs/blind_deconvolution.md, round 6).
L0_BETA_MAX = 1e2
SIGMA_SPACE = 3.0  # the bilateral filter's spatial sigma, pixels (as Pan et al.)
SIGMA_RANGE = 0.1  # the bilateral filter's range sigma, intensity (as Pan et al.)
STRENGTH = 0.5  # share of the filtered difference removed (Pan et al.: 1; chosen on training crops)


def l0_deconvolve(
    blurred: np.ndarray,
    kernel: np.ndarray,
    weight: float = L0_WEIGHT,
    kappa: float = L0_KAPPA,
    beta_max: float = L0_BETA_MAX,
) -> np.ndarray:
    """Deconvolve one channel under an L0 gradient prior,
    :math:`\\min_x \\|k * x - y\\|^2 + \\lambda \\|\\nabla x\\|_0`
    (:func:`~deblurgan.deconv.kernel_estimation.l0_latent`), on a smooth periodic extension
    so the borders do not ring.

    Args:
        blurred: One channel in [0, 1].
        kernel: Non-negative kernel summing to 1, origin at ``k // 2``.
        weight: :math:`\\lambda`, the price of one non-zero gradient.
        kappa: Growth of the half-quadratic penalty per iteration (larger: fewer
            iterations, coarser).
        beta_max: The penalty at which the iterations stop (larger: closer to the L0
            solution, more iterations).

    Returns:
        The piecewise-smooth estimate, float32 (not clipped).

    Shape:
        - Input: :math:`(H, W)` and :math:`(k, k)`.
        - Output: :math:`(H, W)`.
    """
    if blurred.ndim != 2:
        raise ValueError(f"expected one (H, W) channel, got {blurred.shape}")
    if weight <= 0 or kappa <= 1:
        raise ValueError(f"weight must be > 0 and kappa > 1, got {weight} and {kappa}")
    if not beta_max > 2 * weight:
        raise ValueError(f"beta_max must exceed twice the weight ({2 * weight}), got {beta_max}")
    extended, offsets = periodic_extension(blurred, max(kernel.shape))
    otf = psf_to_otf(kernel.astype(np.float32), extended.shape)
    latent = l0_latent(extended, otf, weight, beta_max=beta_max, kappa=kappa)
    return np.ascontiguousarray(crop(latent, offsets, blurred.shape), dtype=np.float32)


def suppress_ringing(
    latent: np.ndarray,
    smooth: np.ndarray,
    strength: float = 1.0,
    sigma_space: float = SIGMA_SPACE,
    sigma_range: float = SIGMA_RANGE,
) -> np.ndarray:
    """Remove from ``latent`` the bilateral-filtered part of its difference from
    ``smooth``: :math:`x_\\alpha - s \\cdot \\mathrm{BF}(x_\\alpha - x_0)`.

    With ``strength`` 0, or where ``latent`` equals ``smooth``, ``latent`` comes back
    unchanged (as float32).

    Args:
        latent: The hyper-Laplacian deconvolution (:math:`x_\\alpha`).
        smooth: The L0 deconvolution of the same input (:math:`x_0`, :func:`l0_deconvolve`).
        strength: :math:`s`, how much of the filtered difference is removed (0 to 1).
        sigma_space: The bilateral filter's spatial standard deviation, pixels.
        sigma_range: Its range standard deviation, in intensity.

    Returns:
        The image with the ripples removed, float32 (not clipped).

    Shape:
        - Input: :math:`(H, W)` each.
        - Output: :math:`(H, W)`.
    """
    if latent.shape != smooth.shape or latent.ndim != 2:
        raise ValueError(f"expected two equal (H, W) images, got {latent.shape}, {smooth.shape}")
    if not 0.0 <= strength <= 1.0 or sigma_space <= 0 or sigma_range <= 0:
        raise ValueError(
            f"strength must be in [0, 1] and the sigmas positive, got {strength}, "
            f"{sigma_space}, {sigma_range}"
        )
    latent = latent.astype(np.float32, copy=False)
    if strength == 0.0:
        return latent.copy()
    difference = np.ascontiguousarray(latent - smooth.astype(np.float32, copy=False))
    diameter = 2 * int(np.ceil(2 * sigma_space)) + 1
    filtered = cv2.bilateralFilter(
        difference, diameter, sigma_range, sigma_space, borderType=cv2.BORDER_REFLECT
    )
    return latent - np.float32(strength) * filtered


def deringed_deconvolution(
    blurred: np.ndarray,
    kernel: np.ndarray,
    latent: np.ndarray,
    strength: float = STRENGTH,
    weight: float = L0_WEIGHT,
    clip_level: float | None = CLIPPED,
) -> np.ndarray:
    """:func:`suppress_ringing` of ``latent`` (the hyper-Laplacian deconvolution of
    ``blurred``) with the L0 deconvolution of ``blurred`` (:func:`l0_deconvolve`),
    clipped to [0, 1].

    Pixels within the kernel's reach of a clipped highlight are no evidence (as in
    :func:`~deblurgan.deconv.nonblind.deconvolve`): the L0 deconvolution sees ``latent``
    re-blurred there instead, so the two images differ only where the evidence does.

    Args:
        blurred: The blurred channel in [0, 1].
        kernel: The (estimated) kernel ``latent`` was deconvolved with.
        latent: The hyper-Laplacian deconvolution of ``blurred``.
        strength: :math:`s` of :func:`suppress_ringing`.
        weight: :math:`\\lambda` of :func:`l0_deconvolve`.
        clip_level: Values of ``blurred`` at or above this count as clipped; None: none do.

    Shape:
        - Input: :math:`(H, W)`, :math:`(k, k)`, :math:`(H, W)`.
        - Output: :math:`(H, W)`, float32 in [0, 1].
    """
    evidence = blurred.astype(np.float32, copy=False)
    if clip_level is not None and bool((evidence >= clip_level).any()):
        flipped = np.ascontiguousarray(kernel[::-1, ::-1]).astype(np.float32)
        reach = cv2.dilate(
            (evidence >= clip_level).astype(np.uint8), (flipped > 0).astype(np.uint8)
        )
        # filter2D correlates: with the flipped kernel it convolves.
        reblurred = cv2.filter2D(
            latent.astype(np.float32), -1, flipped, borderType=cv2.BORDER_REFLECT
        )
        evidence = np.where(reach > 0, reblurred, evidence)
    smooth = l0_deconvolve(evidence, kernel, weight, L0_KAPPA)
    return np.clip(suppress_ringing(latent, smooth, strength), 0.0, 1.0)
