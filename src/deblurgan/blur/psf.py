"""Point-spread functions rendered from trajectories by sub-pixel (bilinear) splatting."""

from __future__ import annotations

import numba
import numpy as np

# The exposure fractions of the blur recipe: one of these parts of the path is drawn per image
# (10%, 50% and 100%, as training has always drawn; the authors' code also renders 1%, a
# sub-pixel kernel that is no blur at all).
DEFAULT_EXPOSURES = (0.1, 0.5, 1.0)


def render_psfs(
    trajectories: np.ndarray,
    exposures: tuple[float, ...] = DEFAULT_EXPOSURES,
    size: int = 64,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Render the kernels of the first ``exposure`` fraction of each path.

    Every path point deposits equal mass on its four nearest pixels with
    bilinear weights. Bilinear splatting keeps the first moment, so shifting
    each (partial) path to put its mean on the canvas centre ``size // 2``
    puts the kernel's centre of mass exactly there: convolving with it does
    not shift the image.

    Args:
        trajectories: Complex positions, shape (N, M).
        exposures: Fractions of the path in (0, 1] (cumulative exposure times).
        size: Canvas side; a path of length L always fits when ``size >= L + 4``.
        out: Optional C-contiguous float32 array to render into (saves a copy).

    Returns:
        Non-negative float32 kernels summing to 1, shape (N, len(exposures), size, size);
        the row index is the imaginary (y) axis.

    Examples:
        >>> line = np.linspace(0, 10, 101)[None].astype(complex)
        >>> psf = render_psfs(line, exposures=(1.0,), size=16)
        >>> round(float(psf.sum()), 5), psf.shape
        (1.0, (1, 1, 16, 16))
    """
    if trajectories.ndim != 2:
        raise ValueError(f"trajectories must have shape (N, M), got {trajectories.shape}")
    if not exposures or not all(0.0 < e <= 1.0 for e in exposures):
        raise ValueError(f"exposures must be fractions in (0, 1], got {exposures}")
    n, steps = trajectories.shape
    counts = np.array([max(1, int(round(fraction * steps))) for fraction in exposures])
    shape = (n, len(counts), size, size)
    if out is None:
        out = np.empty(shape, dtype=np.float32)
    if out.shape != shape or out.dtype != np.float32 or not out.flags.c_contiguous:
        raise ValueError(f"out must be a C-contiguous float32 array of shape {shape}")
    reach = np.zeros(n)
    _splat(np.ascontiguousarray(trajectories, dtype=np.complex128), counts, out, reach)
    worst = float(reach.max()) if n else 0.0
    if worst > size // 2 or size // 2 + worst >= size - 1:  # a point fell off the canvas
        raise ValueError(
            f"kernel size {size} is too small for paths reaching {worst:.1f} px from their "
            f"centre; use size >= {2 * int(np.floor(worst)) + 4}"
        )
    return out


def tight_crop(kernel: np.ndarray, threshold: float = 0.0) -> np.ndarray:
    """Crop a centred kernel to the smallest odd square around its centre pixel.

    The centre pixel ``size // 2`` stays the centre, so a kernel from
    :func:`render_psfs` keeps its centre of mass at the centre.

    Shape:
        - Input: :math:`(K, K)`.
        - Output: :math:`(2r + 1, 2r + 1)`, renormalised to sum 1.
    """
    centre = kernel.shape[0] // 2
    rows, cols = np.nonzero(kernel > threshold)
    if rows.size == 0:
        raise ValueError("kernel has no mass above the threshold")
    radius = int(max(np.abs(rows - centre).max(), np.abs(cols - centre).max()))
    cropped = kernel[centre - radius : centre + radius + 1, centre - radius : centre + radius + 1]
    return cropped / cropped.sum()


@numba.njit(parallel=True, cache=True)
def _splat(paths, counts, out, reach):
    """Bilinear splat of each path's first ``counts[e]`` points, centred on their mean.

    Every point puts mass ``1 / count`` on its four nearest pixels; points that
    would fall off the canvas are skipped and their distance recorded in ``reach``
    (the caller then refuses the result).
    """
    size = out.shape[2]
    centre = size // 2
    for i in numba.prange(paths.shape[0]):
        out[i] = 0.0
        for e in range(counts.shape[0]):
            count = counts[e]
            mx = my = 0.0
            for j in range(count):
                mx += paths[i, j].real
                my += paths[i, j].imag
            mx /= count
            my /= count
            mass = 1.0 / count
            for j in range(count):
                dx, dy = paths[i, j].real - mx, paths[i, j].imag - my
                reach[i] = max(reach[i], abs(dx), abs(dy))
                px, py = dx + centre, dy + centre
                x0, y0 = int(np.floor(px)), int(np.floor(py))
                if x0 < 0 or y0 < 0 or x0 >= size - 1 or y0 >= size - 1:
                    continue
                fx, fy = px - x0, py - y0
                out[i, e, y0, x0] += (1 - fx) * (1 - fy) * mass
                out[i, e, y0, x0 + 1] += fx * (1 - fy) * mass
                out[i, e, y0 + 1, x0] += (1 - fx) * fy * mass
                out[i, e, y0 + 1, x0 + 1] += fx * fy * mass
