"""The per-pixel steps of half-quadratic splitting, fused into compiled passes.

Both splitting schemes (the L0 latent step and the hyper-Laplacian deconvolution) need, per
iteration, the circular forward differences of the image, a pointwise step on them, and the
adjoint of the differences (a divergence) of the result; then, in the Fourier domain, the
image step in closed form (:func:`splitting_solve`). In numpy the first is about ten
full-image temporaries and the second five passes, each of which lets go of the interpreter
and takes it back: with two estimates running side by side (``auto``'s windows) the threads
then mostly wait for each other. Here they are three compiled passes (numba, compiled once
per machine and cached), each over bands of rows on every core for a large image
(:func:`~deblurgan.deconv.threads.by_rows`: the same values as one pass) and in one thread
for a small one. Not numba's parallel regions: on a busy 2-core machine they took 28 ms a
call on a 300x300 image (threads waiting for each other), and one Levin image took 18.7 s
in all against 3.1 s serial. The numpy compositions (:mod:`deblurgan.deconv.fourier`'s
differences and divergence, :func:`deblurgan.deconv.nonblind.shrink`, the image step as
one numpy expression) are the reference; tests compare them.
"""

from __future__ import annotations

from collections.abc import Callable

import numba
import numpy as np

from deblurgan.deconv.threads import by_rows


@numba.njit(cache=True, nogil=True)
def _divergence_rows(
    gx: np.ndarray, gy: np.ndarray, out: np.ndarray, first: int, stop: int
) -> None:
    """Rows ``[first, stop)`` of :math:`D_x^T g_x + D_y^T g_y` (circular forward differences)."""
    height, width = gx.shape
    for i in range(first, stop):
        up = i - 1 if i > 0 else height - 1
        out[i, 0] = (gx[i, width - 1] - gx[i, 0]) + (gy[up, 0] - gy[i, 0])
        for j in range(1, width):
            out[i, j] = (gx[i, j - 1] - gx[i, j]) + (gy[up, j] - gy[i, j])


@numba.njit(cache=True, nogil=True)
def _thresholded_rows(
    u: np.ndarray, threshold: float, gx: np.ndarray, gy: np.ndarray, first: int, stop: int
) -> None:
    """Rows ``[first, stop)`` of :math:`\\nabla u`, zero where its squared magnitude is
    below ``threshold``."""
    height, width = u.shape
    for i in range(first, stop):
        down = i + 1 if i < height - 1 else 0
        for j in range(width):
            x = u[i, j + 1 if j < width - 1 else 0] - u[i, j]
            y = u[down, j] - u[i, j]
            keep = x * x + y * y >= threshold
            gx[i, j] = x if keep else 0.0
            gy[i, j] = y if keep else 0.0


@numba.njit(inline="always")
def _shrunk(g: float, table: np.ndarray, scale: float, reach: float) -> float:
    magnitude = abs(g)
    position = min(magnitude, reach) * scale
    index = min(int(position), table.size - 2)
    fraction = position - index
    value = table[index] + fraction * (table[index + 1] - table[index])
    value += max(magnitude - reach, 0.0)
    return value if g >= 0 else -value


@numba.njit(cache=True, nogil=True)
def _shrunk_rows(
    u: np.ndarray,
    table: np.ndarray,
    reach: float,
    gx: np.ndarray,
    gy: np.ndarray,
    first: int,
    stop: int,
) -> None:
    """Rows ``[first, stop)`` of the look-up-table shrinkage of :math:`\\nabla u`."""
    height, width = u.shape
    scale = (table.size - 1) / reach
    for i in range(first, stop):
        down = i + 1 if i < height - 1 else 0
        for j in range(width):
            gx[i, j] = _shrunk(u[i, j + 1 if j < width - 1 else 0] - u[i, j], table, scale, reach)
            gy[i, j] = _shrunk(u[down, j] - u[i, j], table, scale, reach)


def _divergence_of(
    u: np.ndarray, gradients_rows: Callable[..., None], *arguments: object
) -> np.ndarray:
    """:math:`D^T g` where ``gradients_rows(u, *arguments, gx, gy, first, stop)`` writes
    rows of :math:`g`; both passes in bands of rows (the divergence needs every band's
    gradients first)."""
    u = np.ascontiguousarray(u)
    gx, gy, out = np.empty_like(u), np.empty_like(u), np.empty_like(u)
    rows = u.shape[0]
    by_rows(lambda first, stop: gradients_rows(u, *arguments, gx, gy, first, stop), rows, u.size)
    by_rows(lambda first, stop: _divergence_rows(gx, gy, out, first, stop), rows, u.size)
    return out


def thresholded_divergence(u: np.ndarray, threshold: float) -> np.ndarray:
    """:math:`D^T g` where :math:`g = \\nabla u` with the gradients whose squared magnitude
    is below ``threshold`` set to zero (the L0 step).

    Shape:
        - Input: :math:`(H, W)` float32; output the same.
    """
    return _divergence_of(u, _thresholded_rows, float(threshold))


def shrunk_divergence(u: np.ndarray, table: np.ndarray, reach: float) -> np.ndarray:
    """:math:`D^T w` where :math:`w` is the look-up-table shrinkage of :math:`\\nabla u`
    (the hyper-Laplacian step; ``table`` holds the shrunk values of ``|v|`` on a uniform
    grid of [0, ``reach``], beyond which values are shrunk by the last offset).

    Shape:
        - Input: :math:`(H, W)` float32; output the same.
    """
    return _divergence_of(u, _shrunk_rows, table, float(reach))


@numba.njit(cache=True, nogil=True, error_model="numpy")  # a zero denominator: inf, as numpy
def _solved_rows(
    numerator: np.ndarray,
    prior: np.ndarray,
    beta: np.float32,
    denominator: np.ndarray,
    smooth: np.ndarray,
    one: float,
    out: np.ndarray,
    first: int,
    stop: int,
) -> None:
    """Rows ``[first, stop)`` of :math:`(N + \\beta P) / (D + \\beta S)`, rounded as numpy
    rounds it: a complex quotient by a real number is a product with its reciprocal
    (``one``: 1 in the quotient's precision)."""
    width = prior.shape[1]
    for i in range(first, stop):
        for j in range(width):
            scale = one / (denominator[i, j] + beta * smooth[i, j])
            value = numerator[i, j] + beta * prior[i, j]
            out[i, j] = complex(value.real * scale, value.imag * scale)


def splitting_solve(
    data_numerator: np.ndarray,
    prior: np.ndarray,
    beta: float,
    data_denominator: np.ndarray,
    smooth: np.ndarray,
) -> np.ndarray:
    """The image step of half-quadratic splitting in closed form, on the
    :func:`~deblurgan.deconv.fourier.rfft2` grid: :math:`(N + \\beta P) / (D + \\beta
    S)`, written over ``prior`` (and returned; into a copy where the operands are more
    precise than ``prior``), in bands of rows at once on a large image; the same values as
    the numpy expression, to the bit.

    Args:
        data_numerator: :math:`N`, the data term's numerator (e.g. :math:`\\lambda
            \\bar{K} Y`), complex.
        prior: :math:`P`, the transform of the divergence of the auxiliary gradients;
            overwritten by the result.
        beta: The splitting's penalty.
        data_denominator: :math:`D`, the data term's denominator (e.g. :math:`\\lambda
            |K|^2`), real.
        smooth: :math:`S`, :func:`~deblurgan.deconv.fourier.gradient_energy` of the
            image's shape.

    Shape:
        - Input: :math:`(H, W // 2 + 1)` each; output the same.
    """
    beta = np.float32(beta)
    wide = np.result_type(data_numerator, prior, beta, data_denominator, smooth)
    out = prior if wide == prior.dtype else np.empty(prior.shape, wide)  # as one expression
    one = np.finfo(wide).dtype.type(1)
    by_rows(
        lambda first, stop: _solved_rows(
            data_numerator, prior, beta, data_denominator, smooth, one, out, first, stop
        ),
        prior.shape[0],
        prior.size,
    )
    return out
