"""Choosing among kernel estimates: by the blurred image's power spectrum, or by the sparsity
of each one's deconvolution.

The L0 estimate is chaotic: two nearly identical settings succeed on different photos (on
the training crops each of two settings gains about as much on average, while the better
of the two per photo gains 0.3-0.8 dB more: docs/blind_deconvolution.md). The MAP energy
cannot tell which one is right (it prefers kernels that explain the least). Two criteria
can, a little:

- **The spectrum** (:func:`spectral_misfit`, :func:`best_by_spectrum`; the default of
  :class:`~deblurgan.deconv.blind.BlindSettings`): the gradients of
  natural images are close to white, so the power spectrum of a blurred image's gradients
  is about the kernel's power spectrum :math:`|K(\\omega)|^2` times a radial profile
  (Goldstein and Fattal 2012 estimate kernels from this alone). The misfit measures how far
  a kernel's :math:`\\log |K|^2` is from the image's log gradient power within rings of
  frequency (each ring's mean removed, so the unknown radial profile of the scene drops
  out and the kernel's direction and extent remain). The same misfit chooses the display
  gamma (:func:`best_domain`): each estimate at its gamma, judged on its own luminance.
- **The sparsity of the result** (:func:`normalised_sparsity`, :func:`sparsest_result`; an
  option): Krishnan, Tay and Fergus (2011) observed that blur makes an image's gradients less
  sparse by the scale-invariant measure :math:`\\|\\nabla x\\|_1 / \\|\\nabla x\\|_2`, and
  that a wrong kernel's deconvolution does too (its ripples and left-over blur add small
  gradients). Each candidate deconvolves the estimation window with the final step's
  prior (hyper-Laplacian, no ringing suppression); the sparsest result wins. On four
  draws of training crops it gained 0.05-0.13 dB over the spectrum, but not on the photos
  it never saw (docs/blind_deconvolution.md, round 9).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import scipy.signal

from deblurgan.deconv.fourier import gradients
from deblurgan.deconv.nonblind import ALPHA, deconvolve

PATCH = 64  # side of the patches the power spectrum is averaged over (Welch)
RINGS = 12  # rings of frequency between 0 and the Nyquist frequency
LOWEST = 0.02  # frequencies (cycles per pixel) below this carry the scene, not the blur
HIGHEST = 0.45  # above this, noise and compression (chosen on training crops: 0.2-0.45)


@functools.cache
def hann_window(patch: int) -> tuple[np.ndarray, np.ndarray]:
    """The 2-D Hann window the patches are weighted by, and its autocorrelation normalised
    to 1 at lag 0 (the centre, ``[patch - 1, patch - 1]``).

    Shape:
        - Output: :math:`(patch, patch)` and :math:`(2 patch - 1, 2 patch - 1)`.
    """
    window = np.outer(np.hanning(patch), np.hanning(patch))
    lags = scipy.signal.fftconvolve(window, window[::-1, ::-1])
    lags = lags / lags[patch - 1, patch - 1]
    window.flags.writeable = lags.flags.writeable = False  # shared by every call
    return window, lags


def gradient_power(gray: np.ndarray, patch: int = PATCH) -> np.ndarray:
    """The power spectrum of an image's gradients: ``|F(w * dx)|^2 + |F(w * dy)|^2``
    averaged over half-overlapping ``patch x patch`` patches (``w`` a Hann window, each
    patch's mean removed).

    Shape:
        - Input: :math:`(H, W)` with :math:`H, W > patch`.
        - Output: :math:`(patch, patch)`, unshifted (frequency 0 at ``[0, 0]``).
    """
    gray = np.asarray(gray, np.float64)
    gx, gy = np.diff(gray, axis=1)[:-1], np.diff(gray, axis=0)[:, :-1]
    height, width = gx.shape
    if min(height, width) < patch:
        raise ValueError(f"an image of {gray.shape} is smaller than one {patch} px patch")
    window = hann_window(patch)[0]
    power = np.zeros((patch, patch))
    count = 0
    for y in range(0, height - patch + 1, patch // 2):
        for x in range(0, width - patch + 1, patch // 2):
            for gradient in (gx, gy):
                piece = gradient[y : y + patch, x : x + patch]
                power += np.abs(np.fft.fft2((piece - piece.mean()) * window)) ** 2
            count += 1
    return power / count


def windowed_power(kernel: np.ndarray, patch: int) -> np.ndarray:
    """The gradient power :func:`gradient_power` would see of white noise blurred by
    ``kernel``: the kernel's power spectrum as seen through the patches' Hann window (the
    FFT of the kernel's autocorrelation times the window's, wrapped onto the patch), so
    its zeros are filled as the image's are, not left as infinitely deep notches.

    Shape:
        - Input: :math:`(k, k)`; output :math:`(patch, patch)`, unshifted.
    """
    side = kernel.shape[0]
    window_lags = hann_window(patch)[1]
    centre = patch - 1
    reach = min(side - 1, centre)
    lags = window_lags[centre - reach : centre + reach + 1, centre - reach : centre + reach + 1]
    kernel_lags = scipy.signal.fftconvolve(kernel, kernel[::-1, ::-1].astype(np.float64))
    middle = side - 1
    kernel_lags = kernel_lags[
        middle - reach : middle + reach + 1, middle - reach : middle + reach + 1
    ]
    wrapped = np.zeros((patch, patch))
    index = (np.arange(-reach, reach + 1)) % patch
    np.add.at(wrapped, (index[:, None], index[None, :]), kernel_lags * lags)
    return np.abs(np.fft.fft2(wrapped).real)


def spectral_misfit(power: np.ndarray, kernel: np.ndarray) -> float:
    """How badly ``kernel`` explains an image's gradient ``power`` (:func:`gradient_power`):
    the mean squared difference of :math:`\\log P` and :math:`\\log |K|^2` over frequencies
    between :data:`LOWEST` and :data:`HIGHEST`, after removing each ring's mean from both
    (0: the kernel explains every direction and frequency of the blur).

    Shape:
        - Input: ``power`` :math:`(N, N)`, ``kernel`` :math:`(k, k)` with :math:`k \\le N`.
    """
    n = power.shape[0]
    otf_power = windowed_power(kernel, n)
    radius = np.hypot(*np.meshgrid(np.fft.fftfreq(n), np.fft.fftfreq(n), indexing="ij"))
    used = (radius > LOWEST) & (radius < HIGHEST)
    rings = np.minimum((radius / 0.5 * RINGS).astype(int), RINGS)[used]
    difference = np.log(power[used] + 1e-12) - np.log(otf_power[used] + 1e-6)
    sums = np.bincount(rings, difference, RINGS + 1)
    counts = np.maximum(np.bincount(rings, minlength=RINGS + 1), 1)
    return float(np.mean((difference - (sums / counts)[rings]) ** 2))


def spectral_misfits(gray: np.ndarray, kernels: Sequence[np.ndarray]) -> list[float]:
    """:func:`spectral_misfit` of each of ``kernels`` on ``gray``'s gradient power, averaged
    over patches large enough for the largest kernel (within the image).

    Shape:
        - Input: ``gray`` :math:`(H, W)`, each kernel :math:`(k, k)`.
    """
    side = max(PATCH, max(k.shape[0] for k in kernels) + 1)
    patch = min(side, min(gray.shape) - 1) // 2 * 2  # room for the kernels, within the image
    power = gradient_power(gray, patch)
    return [spectral_misfit(power, k) for k in kernels]


def best_by_spectrum(gray: np.ndarray, kernels: Sequence[np.ndarray]) -> int:
    """The index of the kernel of ``kernels`` that best explains ``gray``'s gradient power
    spectrum (:func:`spectral_misfit`; the first on a tie).

    Examples:
        >>> import cv2
        >>> from deblurgan.blur.apply import blur_image
        >>> rng = np.random.default_rng(0)
        >>> sharp = cv2.GaussianBlur(rng.random((160, 160)).astype(np.float32), (0, 0), 1)
        >>> line = np.zeros((15, 15), np.float32); line[7, 1:14] = 1 / 13
        >>> blurred = blur_image(sharp, line)
        >>> best_by_spectrum(blurred, [line.T.copy(), line])
        1
    """
    return int(np.argmin(spectral_misfits(gray, kernels)))


def best_domain(grays: Sequence[np.ndarray], kernels: Sequence[np.ndarray]) -> int:
    """The index of the domain whose kernel best explains its own image: ``kernels[i]`` was
    estimated on ``grays[i]`` (the same pixels at another display gamma), and the pair with
    the lowest :func:`spectral_misfit` wins (the first on a tie). A blur made in linear light
    is a convolution there and not quite one on the encoded values, and the other way round,
    so the kernel estimated where the blur happened tends to be the better one, and to
    explain its spectrum better. It is a tendency, not a test of the gamma: given the TRUE
    kernel at both gammas, the spectra named the gamma of 15 of 24 training crops
    (docs/blind_deconvolution.md, round 11).

    Shape:
        - Input: each of ``grays`` :math:`(H, W)`, the same size; kernels of one size.
    """
    return int(
        np.argmin([spectral_misfits(g, [k])[0] for g, k in zip(grays, kernels, strict=True)])
    )


def normalised_sparsity(
    gray: np.ndarray,
    kernel: np.ndarray,
    weight: float,
    exponent: float = ALPHA,
    margin: int | None = None,
) -> float:
    """Krishnan, Tay and Fergus' (2011) normalised sparsity of ``gray`` deconvolved with
    ``kernel``: the L1 over the L2 norm of its gradients (lower: sparser, sharper and with
    fewer ripples), over the pixels ``margin`` or more from the border.

    Args:
        gray: The blurred image (luminance).
        kernel: A candidate kernel.
        weight: The deconvolution's data weight
            (:func:`~deblurgan.deconv.nonblind.deconvolve`).
        exponent: Its hyper-Laplacian exponent.
        margin: Pixels left out at each border (None: the kernel's side). Images compared
            must be measured on the same pixels: the measure grows with the square root
            of their count.

    Returns:
        The measure; infinite when the result has no gradient at all (no evidence).

    Raises:
        ValueError: Nothing is left inside the margin.

    Shape:
        - Input: :math:`(H, W)` with :math:`H, W > 2 m`, kernel :math:`(k, k)`.
    """
    margin = kernel.shape[0] if margin is None else margin
    if min(gray.shape) <= 2 * margin:
        raise ValueError(f"an image of {gray.shape} has no pixels {margin} px from its border")
    sharp = deconvolve(gray, kernel, weight, alpha=exponent)
    inner = (slice(margin, -margin),) * 2
    magnitudes = np.abs(np.stack(gradients(sharp))[(slice(None), *inner)]).astype(np.float64)
    norm = float(np.sqrt(np.sum(magnitudes**2)))
    return float(magnitudes.sum() / norm) if norm > 0 else float("inf")


def sparsest_result(
    gray: np.ndarray, kernels: Sequence[np.ndarray], weight: float, exponent: float = ALPHA
) -> int:
    """The index of the kernel of ``kernels`` whose deconvolution of ``gray`` is the
    sparsest (:func:`normalised_sparsity`, every result measured on the same pixels, the
    largest kernel's side from the border; the first on a tie).

    Args:
        gray: The blurred image (luminance).
        kernels: The candidates (of any sides).
        weight: The deconvolutions' data weight.
        exponent: Their hyper-Laplacian exponent.

    Returns:
        An index into ``kernels``.

    Shape:
        - Input: :math:`(H, W)` with :math:`H, W` over twice the largest kernel side.

    Examples:
        >>> from deblurgan.blur.apply import blur_image
        >>> rng = np.random.default_rng(0)
        >>> sharp = np.kron(rng.random((16, 16)), np.ones((10, 10))).astype(np.float32)
        >>> line = np.zeros((15, 15), np.float32); line[7, 1:14] = 1 / 13
        >>> blurred = blur_image(sharp, line)
        >>> sparsest_result(blurred, [line.T.copy(), line], weight=3000.0)
        1
    """
    margin = max(k.shape[0] for k in kernels)
    scores = [normalised_sparsity(gray, k, weight, exponent, margin) for k in kernels]
    return int(np.argmin(scores))
