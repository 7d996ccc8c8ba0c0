"""The kernel step of blind deconvolution: the blur kernel that best maps a latent image's
gradients onto the blurred image's, :math:`\\min_k \\|\\nabla S * k - \\nabla B\\|^2 +
\\gamma \\|k\\|^2 + \\mu \\|k\\|_1`, by conjugate gradients on the kernel's support (the
L1 term by reweighting), and Cho and Lee's selection of the strongest edges it may use.

The conjugate gradients apply the normal equations' operator, a correlation with the latent
image's autocorrelation, many times on a small window. Up to :data:`DIRECT_MAX` pixels a
side they run compiled, the correlation summed directly; beyond, through FFTs. One kernel
step on one thread of a 2-core AMD EPYC (AVX2; ``benchmarks/blind_speed.py
--only-kernel-step``): 2.5-3.2 ms compiled against 8.1-10.7 ms through FFTs at 13 px,
about the same at 29-33 px, 52 against 20 ms at 45 px.

The compiled solve also lets go of the interpreter once a solve, where the FFT path holds
it for the Python between some 40 small FFTs and the numpy operations on a few hundred
values (too few for numpy to let it go), so jobs side by side on two threads (``auto``'s
windows) no longer wait for each other.
"""

from __future__ import annotations

from collections.abc import Callable

import numba
import numpy as np
import scipy.fft

from deblurgan.deconv.fourier import centre_window, irfft2, rfft2

DIRECT_MAX = 29  # kernel side up to which the operator is applied directly (see above)


def kernel_step(
    latent: tuple[np.ndarray, np.ndarray],
    blurred: tuple[np.ndarray, np.ndarray],
    size: int,
    tikhonov: float,
    valid: np.ndarray | None = None,
    sparsity: float = 0.0,
    reweights: int = 2,
    cg_iterations: int = 20,
) -> np.ndarray:
    """Least-squares kernel in the gradient domain: :math:`\\min_k \\sum_{d \\in \\{x, y\\}}
    \\|\\partial_d S * k - \\partial_d B\\|^2 + \\gamma \\|k\\|^2 + \\mu \\|k\\|_1` over
    kernels supported on ``size x size`` pixels, by conjugate gradients (the normal
    equations' Gram matrix is a correlation with the latent's autocorrelation); the L1
    term, which suppresses faint spurs, by iteratively reweighted least squares.

    Args:
        latent: Gradients ``(x, y)`` of the latent image (the extended one of
            :func:`~deblurgan.deconv.kernel_estimation.l0_latent`).
        blurred: Gradients ``(x, y)`` of the blurred image, the same shape.
        size: Odd kernel side.
        tikhonov: :math:`\\gamma` relative to the latent's gradient energy.
        valid: Optional 0/1 weights on both gradient images (the synthetic border extension
            is no evidence about the blur); zeroed before the correlation, so a band one
            kernel radius wide inside the mask's edge still counts, approximately.
        sparsity: :math:`\\mu` relative to the latent's gradient energy (0: none).
        reweights: Reweighted solves for the L1 term.
        cg_iterations: Conjugate-gradient iterations per solve.

    Shape:
        - Input: four :math:`(H, W)` gradient images.
        - Output: :math:`(size, size)`, float32, not normalised.
    """
    shape = latent[0].shape
    numerator = 0
    gram = 0
    for s, b in zip(latent, blurred):
        if valid is not None:
            s, b = s * valid, b * valid
        fs = rfft2(s)
        numerator = numerator + np.conj(fs) * rfft2(b)
        gram = gram + (fs.real**2 + fs.imag**2)
    energy = float(np.mean(gram))
    rhs = centre_window(irfft2(numerator, shape), size).astype(np.float64)
    # The Gram operator is a correlation with the latent's autocorrelation, of which a
    # kernel only meets the lags within +-(size - 1): a small window.
    autocorrelation = centre_window(irfft2(gram, shape), 2 * size - 1).astype(np.float64)
    diagonal = np.full((size, size), tikhonov * energy)
    k = _solve(autocorrelation, rhs, np.full((size, size), 1.0 / size**2), diagonal, cg_iterations)
    for _ in range(reweights if sparsity > 0 else 0):
        magnitude = np.maximum(np.abs(k), 1e-3 * float(np.abs(k).max()) + 1e-12)
        diagonal = tikhonov * energy + sparsity * energy / magnitude
        k = _solve(autocorrelation, rhs, k, diagonal, cg_iterations)
    return k.astype(np.float32)


def strongest_edges(gx: np.ndarray, gy: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Keep only the strongest gradients: the largest magnitude threshold such that each of
    four orientation bins keeps at least ``count`` pixels (Cho and Lee 2009's edge selection,
    as Pan et al. 2014 use it); the rest become 0.

    Shape:
        - Input: two :math:`(H, W)` gradient images; outputs the same.
    """
    magnitude = gx * gx + gy * gy
    angle = np.arctan2(gy, gx) % np.pi  # an edge and its opposite are one orientation
    bins = np.minimum((angle / (np.pi / 4)).astype(np.int8), 3)
    threshold = np.inf
    for b in range(4):
        values = magnitude[bins == b]
        if values.size == 0:
            continue
        k = min(count, values.size)
        threshold = min(threshold, float(np.partition(values, values.size - k)[values.size - k]))
    if not np.isfinite(threshold):
        return gx, gy
    keep = magnitude >= threshold
    return gx * keep, gy * keep


def _solve(
    autocorrelation: np.ndarray,
    rhs: np.ndarray,
    start: np.ndarray,
    diagonal: np.ndarray,
    iterations: int,
) -> np.ndarray:
    """Conjugate gradients from ``start`` on :math:`A \\star k + d \\odot k = r`, the
    correlation with ``autocorrelation`` (``2 size - 1`` a side) summed directly in compiled
    code up to :data:`DIRECT_MAX`, through FFTs beyond.

    Shape:
        - Input: :math:`(2s - 1, 2s - 1)`, then three :math:`(s, s)` float64.
    """
    size = rhs.shape[0]
    if size <= DIRECT_MAX:
        return _compiled_conjugate_gradients(autocorrelation, rhs, start, diagonal, iterations)
    # Room for the full linear convolution (3 size - 2), rounded up to a fast FFT length;
    # one thread: for FFTs this small, threads cost more than they save.
    small = (scipy.fft.next_fast_len(3 * size - 2, real=True),) * 2
    window = scipy.fft.rfft2(autocorrelation, s=small)

    def apply(k: np.ndarray) -> np.ndarray:
        full = scipy.fft.irfft2(scipy.fft.rfft2(k, s=small) * window, s=small)
        return full[size - 1 : 2 * size - 1, size - 1 : 2 * size - 1] + diagonal * k

    return _conjugate_gradients(apply, rhs, start, iterations)


def _conjugate_gradients(
    apply: Callable[[np.ndarray], np.ndarray], rhs: np.ndarray, start: np.ndarray, iterations: int
) -> np.ndarray:
    """Solve ``apply(x) = rhs`` for a symmetric positive definite ``apply``, from ``start``."""
    x = start.astype(np.float64)
    residual = rhs - apply(x)
    direction = residual.copy()
    norm = float(np.sum(residual * residual))
    for _ in range(iterations):
        if norm <= 1e-20:
            break
        applied = apply(direction)
        step = norm / float(np.sum(direction * applied))
        x = x + step * direction
        residual = residual - step * applied
        new_norm = float(np.sum(residual * residual))
        direction = residual + (new_norm / norm) * direction
        norm = new_norm
    return x


@numba.njit(cache=True, nogil=True)
def _gram_product(
    autocorrelation: np.ndarray, k: np.ndarray, diagonal: np.ndarray, out: np.ndarray
) -> None:
    """``out`` = the correlation of ``k`` with ``autocorrelation`` (the lags within
    +-(size - 1)) plus ``diagonal * k``, summed directly (one row of lags at a time, so the
    innermost loop runs over contiguous memory)."""
    size = k.shape[0]
    for i in range(size):
        for j in range(size):
            out[i, j] = diagonal[i, j] * k[i, j]
    for p in range(size):
        for q in range(size):
            weight = k[size - 1 - p, size - 1 - q]
            for i in range(size):
                for j in range(size):
                    out[i, j] += weight * autocorrelation[i + p, j + q]


@numba.njit(cache=True, nogil=True)
def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """The sum of ``a * b`` (two square arrays of one size), added up in order."""
    total = 0.0
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            total += a[i, j] * b[i, j]
    return total


@numba.njit(cache=True, nogil=True)
def _compiled_conjugate_gradients(
    autocorrelation: np.ndarray,
    rhs: np.ndarray,
    start: np.ndarray,
    diagonal: np.ndarray,
    iterations: int,
) -> np.ndarray:
    """:func:`_conjugate_gradients` with :func:`_gram_product` as the operator, compiled.
    Written as loops, not array expressions: numba compiles it in about 2 s instead of 11
    (once per machine; the result is cached)."""
    size = rhs.shape[0]
    x, residual = np.empty((size, size)), np.empty((size, size))
    direction, applied = np.empty((size, size)), np.empty((size, size))
    for i in range(size):
        for j in range(size):
            x[i, j] = start[i, j]
    _gram_product(autocorrelation, x, diagonal, applied)
    for i in range(size):
        for j in range(size):
            residual[i, j] = rhs[i, j] - applied[i, j]
            direction[i, j] = residual[i, j]
    norm = _dot(residual, residual)
    for _ in range(iterations):
        if norm <= 1e-20:
            break
        _gram_product(autocorrelation, direction, diagonal, applied)
        step = norm / _dot(direction, applied)
        for i in range(size):
            for j in range(size):
                x[i, j] += step * direction[i, j]
                residual[i, j] -= step * applied[i, j]
        new_norm = _dot(residual, residual)
        ratio = new_norm / norm
        for i in range(size):
            for j in range(size):
                direction[i, j] = residual[i, j] + ratio * direction[i, j]
        norm = new_norm
    return x
