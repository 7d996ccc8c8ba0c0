"""Point-spread functions rendered from trajectories by sub-pixel (bilinear) splatting."""

from __future__ import annotations

import numpy as np
import torch

DEFAULT_EXPOSURES = (0.01, 0.1, 0.5, 1.0)  # the authors' code renders these parts of the path


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
    counts = [max(1, int(round(fraction * steps))) for fraction in exposures]
    paths = torch.from_numpy(trajectories)
    centred = torch.cat([paths[:, :c] - paths[:, :c].mean(dim=1, keepdim=True) for c in counts], 1)
    position = torch.view_as_real(centred).float().add_(size // 2)  # (N, P, 2): x, y
    if n and (position.amin() < 0 or position.amax() >= size - 1):
        reach = float((position - size // 2).abs().amax())
        raise ValueError(
            f"kernel size {size} is too small for paths reaching {reach:.1f} px from their "
            f"centre; use size >= {2 * int(np.ceil(reach)) + 4}"
        )
    # Point j of kernel i, exposure e lands in slot i * E + e of the output.
    slot = torch.cat([torch.full((c,), e) for e, c in enumerate(counts)])
    mass = torch.cat([torch.full((c,), 1.0 / c) for c in counts])
    slot = torch.arange(n).unsqueeze(1) * len(counts) + slot
    shape = (n, len(counts), size, size)
    if out is None:
        out = np.empty(shape, dtype=np.float32)
    if out.shape != shape or out.dtype != np.float32 or not out.flags.c_contiguous:
        raise ValueError(f"out must be a C-contiguous float32 array of shape {shape}")
    _splat(position, slot, mass, size, torch.from_numpy(out).view(-1))
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


def _splat(
    position: torch.Tensor, slot: torch.Tensor, mass: torch.Tensor, size: int, canvas: torch.Tensor
) -> None:
    """Bilinear scatter of points (N, P, 2) with masses (P,) into a flat canvas of slots.

    The four corner weights are added at the top-left pixel's index into four
    views of the canvas, offset by 0, 1, size and size + 1: no index
    arithmetic per corner (every point is at most at ``size - 2``, so the
    offsets stay inside its slot). ``index_add_`` is multi-threaded, about 3x
    numpy's bincount here.
    """
    cell = position.floor()
    frac = position - cell
    fx, fy = frac[..., 0], frac[..., 1]
    gx, gy = (1.0 - fx).mul_(mass), (1.0 - fy)
    fx = fx * mass
    index = (slot * (size * size) + cell[..., 1].long() * size + cell[..., 0].long()).ravel()
    canvas.zero_()
    for offset, weight in ((0, gx * gy), (1, fx * gy), (size, gx * fy), (size + 1, fx * fy)):
        canvas[offset:].index_add_(0, index, weight.ravel())
