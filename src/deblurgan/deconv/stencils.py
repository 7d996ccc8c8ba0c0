"""The per-pixel steps of half-quadratic splitting, fused into compiled passes.

Both splitting schemes (the L0 latent step and the hyper-Laplacian deconvolution) need, per
iteration, the circular forward differences of the image, a pointwise step on them, and the
adjoint of the differences (a divergence) of the result. In numpy that is about ten
full-image temporaries; here it is two serial passes (numba, compiled once per machine and
cached). Serial on purpose: on a busy 2-core machine, parallel regions took 28 ms a call on a
300x300 image (threads waiting for each other), and one Levin image took 18.7 s in all
against 3.1 s serial. The numpy
compositions (:mod:`deblurgan.deconv.fourier`'s differences and divergence,
:func:`deblurgan.deconv.nonblind.shrink`) are the reference; tests compare them.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def _divergence(gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """:math:`D_x^T g_x + D_y^T g_y` for circular forward differences."""
    height, width = gx.shape
    out = np.empty_like(gx)
    for i in range(height):
        up = i - 1 if i > 0 else height - 1
        out[i, 0] = (gx[i, width - 1] - gx[i, 0]) + (gy[up, 0] - gy[i, 0])
        for j in range(1, width):
            out[i, j] = (gx[i, j - 1] - gx[i, j]) + (gy[up, j] - gy[i, j])
    return out


@numba.njit(cache=True, nogil=True)
def thresholded_divergence(u: np.ndarray, threshold: float) -> np.ndarray:
    """:math:`D^T g` where :math:`g = \\nabla u` with the gradients whose squared magnitude
    is below ``threshold`` set to zero (the L0 step).

    Shape:
        - Input: :math:`(H, W)` float32; output the same.
    """
    height, width = u.shape
    gx = np.empty_like(u)
    gy = np.empty_like(u)
    for i in range(height):
        down = i + 1 if i < height - 1 else 0
        for j in range(width):
            x = u[i, j + 1 if j < width - 1 else 0] - u[i, j]
            y = u[down, j] - u[i, j]
            keep = x * x + y * y >= threshold
            gx[i, j] = x if keep else 0.0
            gy[i, j] = y if keep else 0.0
    return _divergence(gx, gy)


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
def shrunk_divergence(u: np.ndarray, table: np.ndarray, reach: float) -> np.ndarray:
    """:math:`D^T w` where :math:`w` is the look-up-table shrinkage of :math:`\\nabla u`
    (the hyper-Laplacian step; ``table`` holds the shrunk values of ``|v|`` on a uniform
    grid of [0, ``reach``], beyond which values are shrunk by the last offset).

    Shape:
        - Input: :math:`(H, W)` float32; output the same.
    """
    height, width = u.shape
    scale = (table.size - 1) / reach
    gx = np.empty_like(u)
    gy = np.empty_like(u)
    for i in range(height):
        down = i + 1 if i < height - 1 else 0
        for j in range(width):
            gx[i, j] = _shrunk(u[i, j + 1 if j < width - 1 else 0] - u[i, j], table, scale, reach)
            gy[i, j] = _shrunk(u[down, j] - u[i, j], table, scale, reach)
    return _divergence(gx, gy)
