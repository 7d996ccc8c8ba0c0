"""Blind kernel estimation with an L0 gradient prior (Xu, Zheng and Jia, CVPR 2013), coarse to
fine, in the form popularised by Pan et al. (2014): alternate

- a latent-image step, :math:`\\min_S \\|k * S - B\\|^2 + \\lambda \\|\\nabla S\\|_0`, by
  half-quadratic splitting with closed-form FFT solutions (:func:`l0_latent`), which keeps
  only the salient edges of the image, and
- a kernel step in the gradient domain, :math:`\\min_k \\|\\nabla S * k - \\nabla B\\|^2 +
  \\gamma \\|k\\|^2 + \\mu \\|k\\|_1`, by conjugate gradients on the kernel's support (the
  L1 term by reweighting; :func:`~deblurgan.deconv.kernel_step.kernel_step`), then
  non-negativity, small values and small disconnected pieces removed, normalisation and
  re-centring (:func:`~deblurgan.deconv.kernel_shape.clean_kernel`),

over an image pyramid whose coarsest kernel is about 5 pixels. Everything is deterministic.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import cv2
import numpy as np

from deblurgan.deconv.fourier import (
    gradient_energy,
    gradients,
    irfft2,
    periodic_extension,
    psf_to_otf,
    rfft2,
)
from deblurgan.deconv.kernel_shape import (
    centre_kernel_subpixel,
    clean_kernel,
    delta_kernel,
    resize_kernel,
)
from deblurgan.deconv.kernel_step import kernel_step, strongest_edges
from deblurgan.deconv.stencils import splitting_solve, thresholded_divergence

LEVEL_RATIO = math.sqrt(0.5)  # kernel (and image) scale between pyramid levels
COARSEST_KERNEL = 5  # kernel side at the coarsest level, pixels
Progress = Callable[[int, int], None]  # (rounds done, rounds in all); may raise to stop


def l0_latent(
    blurred: np.ndarray,
    kernel_otf: np.ndarray,
    weight: float,
    beta_max: float = 1e5,
    kappa: float = 2.0,
) -> np.ndarray:
    """The latent image with an L0 gradient prior: :math:`\\min_S \\|k * S - B\\|^2 +
    \\lambda \\|\\nabla S\\|_0`, by half-quadratic splitting (Xu et al. 2011/2013).

    The auxiliary gradients are hard-thresholded (kept where :math:`|g|^2 \\ge \\lambda /
    \\beta`) and the image solved in closed form, for :math:`\\beta = 2\\lambda, 2\\kappa
    \\lambda, \\dots` up to ``beta_max``. Boundaries are circular: extend the input first
    (:func:`~deblurgan.deconv.fourier.periodic_extension`).

    Args:
        blurred: The blurred image (gray, [0, 1]).
        kernel_otf: :func:`~deblurgan.deconv.fourier.psf_to_otf` of the kernel on its shape.
        weight: :math:`\\lambda`, the price of one non-zero gradient (2e-3 in
            :func:`estimate_kernel`).

    Shape:
        - Input: :math:`(H, W)`; output the same, float32.
    """
    shape = blurred.shape
    data_numerator = np.conj(kernel_otf) * rfft2(blurred)
    data_denominator = np.abs(kernel_otf) ** 2
    smooth_denominator = gradient_energy(shape)
    latent = np.ascontiguousarray(blurred, dtype=np.float32)
    beta = 2 * weight
    while beta < beta_max:
        prior = rfft2(thresholded_divergence(latent, weight / beta))
        spectrum = splitting_solve(
            data_numerator, prior, beta, data_denominator, smooth_denominator
        )
        latent = irfft2(spectrum, shape).astype(np.float32, copy=False)
        beta *= kappa
    return latent


def pyramid_sizes(size: int) -> list[int]:
    """Odd kernel sides from the coarsest level (about :data:`COARSEST_KERNEL`) to ``size``.

    Examples:
        >>> pyramid_sizes(31)
        [5, 7, 11, 15, 21, 31]
    """
    levels = max(int(math.floor(math.log(COARSEST_KERNEL / size) / math.log(LEVEL_RATIO))), 0)
    sizes = [2 * round((size * LEVEL_RATIO**level - 1) / 2) + 1 for level in range(levels, -1, -1)]
    sizes[-1] = size
    return sizes


@dataclasses.dataclass(frozen=True)
class EstimationSettings:
    """How :func:`estimate_kernel` runs (the defaults were chosen on training data:
    docs/blind_deconvolution.md).

    Attributes:
        iterations: Latent/kernel rounds per pyramid level.
        weight: Initial L0 weight :math:`\\lambda`.
        weight_decay: :math:`\\lambda` is divided by this every round.
        min_weight: :math:`\\lambda` never goes below this.
        carry_weight: Carry :math:`\\lambda` from one level to the next (Pan et al.
            2014) instead of restarting it at every level.
        finest_weight: The L0 weight the finest level starts from: the levels start from
            weights spaced geometrically (in the kernel's side) between ``weight`` at the
            coarsest level and this; None: every level starts from ``weight``.
        tikhonov: Relative Tikhonov weight of the kernel step.
        sparsity: Relative L1 weight of the kernel step
            (:func:`~deblurgan.deconv.kernel_step.kernel_step`).
        edge_count: Keep only the strongest latent gradients for the kernel step, at
            least this many times the kernel side per orientation
            (:func:`~deblurgan.deconv.kernel_step.strongest_edges`; 0: all).
        recentre: ``"round"``: whole-pixel re-centring after every round; ``"level"``:
            sub-pixel re-centring once per level (mass cannot fall off the edge of a small
            coarse kernel round after round).
        floor: Each round's kernel keeps only values of at least this fraction of its
            peak (:func:`~deblurgan.deconv.kernel_shape.clean_kernel`).
        min_piece: Each round's kernel keeps only 8-connected pieces holding at least
            this fraction of its mass.
    """

    iterations: int = 8
    weight: float = 2e-3
    weight_decay: float = 1.1
    min_weight: float = 1e-4
    carry_weight: bool = False
    finest_weight: float | None = None
    tikhonov: float = 0.005
    sparsity: float = 0.003
    edge_count: float = 0.0
    recentre: str = "round"
    floor: float = 0.05
    min_piece: float = 0.1

    def __post_init__(self) -> None:
        if self.iterations < 1 or self.weight <= 0 or self.weight_decay < 1:
            raise ValueError(f"invalid estimation settings: {self}")
        if self.finest_weight is not None:
            if not self.finest_weight >= self.min_weight:
                raise ValueError(
                    f"finest_weight must be at least min_weight ({self.min_weight}), "
                    f"got {self.finest_weight}"
                )
            if self.carry_weight:
                raise ValueError("finest_weight and carry_weight cannot be combined")
        if not (0 <= self.floor < 1 and 0 <= self.min_piece < 1):
            raise ValueError(
                f"floor and min_piece must be in [0, 1), got {self.floor}, {self.min_piece}"
            )
        if self.recentre not in ("round", "level"):
            raise ValueError(f"recentre must be 'round' or 'level', got {self.recentre!r}")


def refine_kernel(
    gray: np.ndarray,
    kernel: np.ndarray,
    weight: float,
    settings: EstimationSettings,
    reliable: np.ndarray | None = None,
    progress: Callable[[], None] | None = None,
) -> tuple[np.ndarray, float]:
    """``settings.iterations`` rounds of :func:`l0_latent` and
    :func:`~deblurgan.deconv.kernel_step.kernel_step` +
    :func:`~deblurgan.deconv.kernel_shape.clean_kernel` on one image at one scale, from
    ``kernel``, the L0 weight decreasing from ``weight``: one pyramid level of
    :func:`estimate_kernel`, also used alone to refine a kernel on a part of an image.

    Args:
        gray: The blurred image (luminance) at this scale.
        kernel: The starting kernel (its side is the kernel side at this scale).
        weight: The L0 weight of the first round.
        settings: Everything else.
        reliable: Optional 0/1 map of ``gray``'s pixels that may serve as evidence (e.g.
            not near clipped highlights).
        progress: Called after every round (it may raise to stop the work).

    Returns:
        The kernel and the L0 weight the next level starts from.

    Shape:
        - Input: :math:`(H, W)` with :math:`H, W \\ge k`, kernel :math:`(k, k)`.
    """
    size = kernel.shape[0]
    height, width = gray.shape
    extended, (oy, ox) = periodic_extension(gray, size)
    valid = np.zeros(extended.shape, np.float32)
    margin = size // 2
    inner = (slice(oy + margin, oy + height - margin), slice(ox + margin, ox + width - margin))
    valid[inner] = (
        1.0 if reliable is None else reliable[margin : height - margin, margin : width - margin]
    )
    blurred_gradients = gradients(extended)
    lam = weight
    for _ in range(settings.iterations):
        latent = l0_latent(extended, psf_to_otf(kernel, extended.shape), lam)
        latent_gradients = gradients(latent)
        if settings.edge_count:
            latent_gradients = strongest_edges(*latent_gradients, int(settings.edge_count * size))
        raw = kernel_step(
            latent_gradients,
            blurred_gradients,
            size,
            settings.tikhonov,
            valid,
            settings.sparsity,
        )
        kernel = clean_kernel(
            raw, settings.floor, settings.min_piece, centre=settings.recentre == "round"
        )
        lam = max(lam / settings.weight_decay, settings.min_weight)
        if progress is not None:
            progress()
    if settings.recentre == "level":
        kernel = centre_kernel_subpixel(kernel)
    return kernel, lam


def estimate_kernel(
    gray: np.ndarray,
    size: int,
    settings: EstimationSettings | None = None,
    reliable: np.ndarray | None = None,
    progress: Progress | None = None,
) -> np.ndarray:
    """Estimate a uniform blur kernel from a blurred gray image, coarse to fine.

    At each pyramid level (:func:`pyramid_sizes`) the image is resized by the ratio of the
    level's kernel side to ``size`` and :func:`refine_kernel` refines the kernel; the
    kernel is then resampled to the next level.

    Args:
        gray: The blurred image (luminance, about [0, 1]).
        size: Odd kernel side at full resolution.
        settings: How (:class:`EstimationSettings`; None: the defaults).
        reliable: Optional 0/1 map of the pixels that may serve as evidence.
        progress: Called with (rounds done, rounds in all) before the first round and
            after each (it may raise to stop the work).

    Returns:
        The kernel, ``size x size``, non-negative, summing to 1, centred.

    Shape:
        - Input: :math:`(H, W)` with :math:`H, W \\ge size`.
        - Output: :math:`(size, size)`, float32.
    """
    settings = settings or EstimationSettings()
    if size < 3 or size % 2 == 0:
        raise ValueError(f"kernel size must be odd and at least 3, got {size}")
    if min(gray.shape) < size:
        raise ValueError(f"kernel size {size} is larger than the image {gray.shape}")
    sizes = pyramid_sizes(size)
    kernel = delta_kernel(sizes[0])
    rounds = len(sizes) * settings.iterations
    done = 0

    def advance() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, rounds)

    if progress is not None:
        progress(0, rounds)
    lam = settings.weight
    for level, level_size in enumerate(sizes):
        if level:
            kernel = resize_kernel(kernel, level_size)
        scale = level_size / size
        height, width = (max(int(round(n * scale)), level_size) for n in gray.shape)
        image, mask = gray, reliable
        if (height, width) != gray.shape:
            image = _resize(gray, height, width)
            if reliable is not None:
                mask = _resize(reliable.astype(np.float32), height, width) > 0.999
        start = lam if settings.carry_weight else level_weight(settings, level_size, sizes)
        kernel, lam = refine_kernel(
            image,
            kernel,
            start,
            settings,
            None if mask is None else mask.astype(np.float32),
            advance,
        )
    return kernel


def level_weight(settings: EstimationSettings, level_size: int, sizes: list[int]) -> float:
    """The L0 weight a pyramid level starts from: ``settings.weight``, or with
    ``settings.finest_weight`` the geometric interpolation between the two by where the
    level's kernel side lies between the coarsest's and the finest's (in logarithms; a
    pyramid of one level starts from ``finest_weight``).

    Examples:
        >>> s = EstimationSettings(weight=8e-3, finest_weight=1e-3)
        >>> [round(level_weight(s, n, [5, 7, 11, 15, 21, 31]), 5) for n in (5, 11, 31)]
        [0.008, 0.00326, 0.001]
    """
    if settings.finest_weight is None:
        return settings.weight
    if len(sizes) == 1:  # the only level is the finest
        return settings.finest_weight
    f = math.log(level_size / sizes[0]) / math.log(sizes[-1] / sizes[0])
    return settings.weight ** (1 - f) * settings.finest_weight**f


def _resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Area-averaged down-sampling (bilinear when enlarging)."""
    shrink = height < image.shape[0]
    method = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    return cv2.resize(image.astype(np.float32), (width, height), interpolation=method)
