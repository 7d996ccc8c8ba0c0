"""Camera shake that varies across the frame: local kernels tied together by one camera
motion, then deconvolution tile by tile.

1. :func:`local_kernels`: the photo's one-kernel estimate (``--method l0``'s) refined on a
   grid of windows, a few rounds each at the finest scale. Alone they are noisy: a window
   holds few edges.
2. :func:`~deblurgan.deconv.motion_fit.fit_inplane_motion`: one camera motion (weights
   over in-plane poses: translation and roll) that explains all of them at once, so every
   window borrows the evidence of the others (Hu and Yang 2012, in-plane form).
3. :func:`deconvolve_varying`: the motion's kernel at the centre of every tile of a finer
   grid, each tile deconvolved with its own and the tiles blended over wide overlaps
   (:func:`~deblurgan.deconv.tiles.deconvolve_tiles`).
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np

from deblurgan.deconv.kernel_estimation import EstimationSettings, refine_kernel
from deblurgan.deconv.kernel_shape import centre_kernel_subpixel, crop_to_support, resize_kernel
from deblurgan.deconv.motion_fit import InplaneMotion, fit_inplane_motion, motion_kernel
from deblurgan.deconv.nonblind import ALPHA
from deblurgan.deconv.threads import WORKERS, thread_budget
from deblurgan.deconv.tiles import Stage, Tile, deconvolve_tiles, grid_of

WINDOW_GRID = (3, 3)  # windows the local kernels are estimated on
LOCAL_LONG_SIDE = 512  # the local kernels are estimated on the photo reduced to this
LOCAL_SETTINGS = EstimationSettings(iterations=4, weight=1e-3)  # refinement from the global
TILE_SIDE = 48  # about this many pixels a deconvolution tile, before its overlap
MAX_TILES = 8  # per side
# The tiles' data weight at most this: rolled-camera training photos (384x512, TRUE local
# kernels, 8x8 tiles) gained +0.81 dB at 3000 (l0's cap), +1.34 at 1000, +1.40 at 300 and
# +1.00 at 100: a kernel that varies within its tile is never exact, so it needs slack.
MAX_DATA_WEIGHT = 300.0


@dataclasses.dataclass(frozen=True)
class LocalKernels:
    """Kernels refined on windows of one image, at the estimation scale.

    Attributes:
        kernels: One centred kernel per window.
        points: ``(N, 2)`` window centres ``(y, x)`` relative to the image centre, at the
            local scale.
        scale: The local scale relative to the image given to :func:`local_kernels`.
        contrast: ``(N,)`` each window's root-mean-square gradient (central differences,
            at the local scale): how much evidence about the blur it holds.
    """

    kernels: list[np.ndarray]
    points: np.ndarray
    scale: float
    contrast: np.ndarray


def window_corners(
    height: int, width: int, side: int, grid: tuple[int, int] = WINDOW_GRID
) -> list[tuple[int, int]]:
    """Top-left corners of ``grid`` windows of ``side`` pixels spread evenly over the image
    (their centres at the centres of a ``grid`` partition, moved inside the image).

    Examples:
        >>> window_corners(300, 300, 100)[:4]
        [(0, 0), (0, 100), (0, 200), (100, 0)]
    """
    rows, cols = grid
    corners = []
    for i in range(rows):
        for j in range(cols):
            cy, cx = (i + 0.5) * height / rows, (j + 0.5) * width / cols
            y0 = int(round(min(max(cy - side / 2, 0), max(height - side, 0))))
            x0 = int(round(min(max(cx - side / 2, 0), max(width - side, 0))))
            corners.append((y0, x0))
    return corners


def local_kernels(
    gray: np.ndarray,
    kernel: np.ndarray,
    reliable: np.ndarray | None = None,
    grid: tuple[int, int] = WINDOW_GRID,
    settings: EstimationSettings | None = None,
    progress: Stage | None = None,
) -> LocalKernels:
    """``kernel`` (the whole photo's estimate) refined on each window of a ``grid``, on the
    photo reduced to :data:`LOCAL_LONG_SIDE` pixels (the kernel with it).

    Args:
        gray: The photo's luminance at the estimation scale (as the kernel estimate saw it).
        kernel: Its one-kernel estimate at that scale.
        reliable: Optional 0/1 map of the pixels that are evidence.
        grid: Windows per column and row.
        settings: The refinement's rounds and L0 weight (None: :data:`LOCAL_SETTINGS`).
        progress: Hears ``("comparing parts of the photo", fraction)`` after each window.

    Shape:
        - Input: :math:`(H, W)` and :math:`(k, k)`.
    """
    settings = settings or LOCAL_SETTINGS
    scale = min(1.0, LOCAL_LONG_SIDE / max(gray.shape))
    if scale < 1:
        reduced = (
            max(int(round(gray.shape[1] * scale)), 1),
            max(int(round(gray.shape[0] * scale)), 1),
        )
        gray = cv2.resize(gray, reduced, interpolation=cv2.INTER_AREA)
        if reliable is not None:
            reliable = cv2.resize(reliable, reduced, interpolation=cv2.INTER_AREA) > 0.999
            reliable = reliable.astype(np.float32)
        kernel = resize_kernel(kernel, max(int(round(kernel.shape[0] * scale)) | 1, 3))
    height, width = gray.shape
    size = kernel.shape[0]
    side = min(max(height // grid[0], width // grid[1], 6 * size), height, width)
    corners = window_corners(height, width, side, grid)

    def refine(corner: tuple[int, int]) -> np.ndarray:
        y0, x0 = corner
        mask = None if reliable is None else reliable[y0 : y0 + side, x0 : x0 + side]
        window = gray[y0 : y0 + side, x0 : x0 + side]
        with thread_budget(1):  # the windows already run on every core at once
            return refine_kernel(window, kernel, settings.weight, settings, mask)[0]

    # The windows are independent: refined on every core at once (the same kernels; the
    # FFTs and the compiled passes release the interpreter), heard in order; a cancel
    # stops the windows not begun.
    kernels = []
    with ThreadPoolExecutor(max_workers=max(min(WORKERS, len(corners)), 1)) as pool:
        pending = [pool.submit(refine, corner) for corner in corners]
        try:
            for n, job in enumerate(pending):
                kernels.append(job.result())
                if progress is not None:
                    progress("comparing parts of the photo", (n + 1) / len(corners))
        except BaseException:
            for job in pending:
                job.cancel()
            raise
    points = [
        (y0 + (side - 1) / 2 - (height - 1) / 2, x0 + (side - 1) / 2 - (width - 1) / 2)
        for y0, x0 in corners
    ]
    squared = np.add(*(g * g for g in np.gradient(gray.astype(np.float64))))
    contrast = [np.sqrt(squared[y0 : y0 + side, x0 : x0 + side].mean()) for y0, x0 in corners]
    return LocalKernels(kernels, np.array(points, np.float64), scale, np.array(contrast))


def fit_motion(local: LocalKernels) -> InplaneMotion:
    """The in-plane camera motion that best explains ``local``'s kernels."""
    return fit_inplane_motion(local.kernels, local.points)


def kernel_at(
    motion: InplaneMotion,
    point: tuple[float, float],
    shape: tuple[int, int],
    scale: float,
    small_size: int,
    side: int,
) -> np.ndarray:
    """The motion's kernel at full-resolution ``point`` = (y, x) of an image of ``shape``:
    rendered at the local scale (``scale`` times the full resolution, side ``small_size``),
    enlarged by ``1 / scale``, centred on its centre of mass (sub-pixel, so neighbouring
    tiles stay aligned where they blend) and cropped to ``side`` about the centre.

    Shape:
        - Output: :math:`(side, side)`, summing to 1.
    """
    height, width = shape
    full = max(int(round(small_size / scale)) | 1, side)
    local = ((point[0] - (height - 1) / 2) * scale, (point[1] - (width - 1) / 2) * scale)
    kernel = motion_kernel(motion, local, small_size)
    kernel = centre_kernel_subpixel(resize_kernel(kernel, full) if full != small_size else kernel)
    reach, centre = side // 2, full // 2
    kernel = kernel[centre - reach : centre + reach + 1, centre - reach : centre + reach + 1]
    return (kernel / max(float(kernel.sum()), 1e-12)).astype(np.float32)


def varying_side(
    motion: InplaneMotion,
    shape: tuple[int, int],
    scale: float,
    small_size: int,
) -> int:
    """The kernel side the whole frame needs: the largest support
    (:func:`~deblurgan.deconv.kernel_shape.crop_to_support`) of the motion's kernels
    at the corners and the centre, where a rolling camera's kernels are largest and
    smallest."""
    height, width = shape
    full = max(int(round(small_size / scale)) | 1, 3)
    points = [(y, x) for y in (0, height - 1) for x in (0, width - 1)]
    points.append(((height - 1) / 2, (width - 1) / 2))
    return max(
        crop_to_support(kernel_at(motion, p, shape, scale, small_size, full)).shape[0]
        for p in points
    )


def tile_kernels(
    motion: InplaneMotion,
    tiles: list[Tile],
    shape: tuple[int, int],
    scale: float,
    small_size: int,
    side: int,
) -> list[np.ndarray]:
    """:func:`kernel_at` each tile's centre.

    Shape:
        - Output: one :math:`(side, side)` kernel per tile.
    """
    return [kernel_at(motion, tile.centre, shape, scale, small_size, side) for tile in tiles]


def varying_grid(height: int, width: int, size: int) -> tuple[list[Tile], int]:
    """The deconvolution tiles for blur that varies: about :data:`TILE_SIDE` pixels, at
    most :data:`MAX_TILES` a side, overlapping by a third of a tile (at least two kernel
    sides) so that neighbouring kernels blend smoothly; and that overlap."""
    rows = int(np.clip(round(height / TILE_SIDE), 2, MAX_TILES))
    cols = int(np.clip(round(width / TILE_SIDE), 2, MAX_TILES))
    overlap = max(2 * size, min(height // rows, width // cols) // 3)
    return grid_of(height, width, rows, cols, overlap), overlap


def deconvolve_varying(
    rgb: np.ndarray,
    motion: InplaneMotion,
    scale: float,
    small_size: int,
    weight: float,
    progress: bool = False,
    on_stage: Stage | None = None,
    gamma: float = 1.0,
    suppress_ringing: bool = False,
    exponent: float = ALPHA,
) -> tuple[np.ndarray, list[np.ndarray], list[Tile]]:
    """Deconvolve a photo whose blur follows ``motion`` (fitted at ``scale`` times the full
    resolution to kernels of side ``small_size``), tile by tile, with the data weight
    ``weight`` but at most :data:`MAX_DATA_WEIGHT` (``progress``, ``on_stage``, ``gamma``,
    ``suppress_ringing`` and ``exponent`` as :func:`~deblurgan.deconv.tiles.deconvolve_tiles`).

    Returns:
        The deblurred image and the tiles' kernels and tiles.

    Shape:
        - Input: :math:`(H, W, C)` (in linear light for ``gamma`` other than 1).
    """
    height, width = rgb.shape[:2]
    side = varying_side(motion, (height, width), scale, small_size)
    tiles, overlap = varying_grid(height, width, side)
    kernels = tile_kernels(motion, tiles, (height, width), scale, small_size, side)
    weight = min(weight, MAX_DATA_WEIGHT)
    sharp = deconvolve_tiles(
        rgb, tiles, kernels, weight, overlap, progress, on_stage,
        gamma=gamma, suppress_ringing=suppress_ringing, exponent=exponent,
    )  # fmt: skip
    return sharp, kernels, tiles


def kernel_mosaic(kernels: list[np.ndarray], tiles: list[Tile]) -> np.ndarray:
    """The tiles' kernels as one picture, laid out as the tiles are, each scaled to its own
    peak, one dark pixel apart; normalised to sum 1 (so it saves like one kernel).

    Shape:
        - Output: :math:`(R (k + 1) - 1, C (k + 1) - 1)`.
    """
    rows = sorted({t.y0 for t in tiles})
    cols = sorted({t.x0 for t in tiles})
    size = kernels[0].shape[0]
    mosaic = np.zeros((len(rows) * (size + 1) - 1, len(cols) * (size + 1) - 1), np.float32)
    for tile, kernel in zip(tiles, kernels):
        i, j = rows.index(tile.y0), cols.index(tile.x0)
        peak = max(float(kernel.max()), 1e-12)
        mosaic[i * (size + 1) : i * (size + 1) + size, j * (size + 1) : j * (size + 1) + size] = (
            kernel / peak
        )
    return mosaic / max(float(mosaic.sum()), 1e-12)
