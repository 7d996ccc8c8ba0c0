"""Deconvolution in overlapping tiles, each with its own kernel, blended linearly.

One use bounds memory (a large photo, one kernel, tiles of a fixed side); the other
removes blur that varies across the frame (a grid of tiles, a kernel per tile: the
piecewise-uniform approximation of Hirsch et al. 2010's filter flow, blended over wide
overlaps so the kernels change smoothly from tile to tile). Each tile is deconvolved on
its own smooth periodic extension, so tile borders do not ring.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import math
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from tqdm import tqdm

from deblurgan.deconv.nonblind import ALPHA, CLIPPED, deconvolve
from deblurgan.deconv.preprocess import to_linear
from deblurgan.deconv.ringing import deringed_deconvolution
from deblurgan.deconv.threads import PARALLEL_PIXELS, budget, thread_budget

SHARPENING = "sharpening"  # the stage :func:`deconvolve_tiles` reports, in plain words
Stage = Callable[[str, float], None]  # (stage, fraction done): may raise to stop the work


@dataclasses.dataclass(frozen=True)
class Tile:
    """A rectangle of the image, ``[y0, y1) x [x0, x1)``."""

    y0: int
    y1: int
    x0: int
    x1: int

    @property
    def centre(self) -> tuple[float, float]:
        """The tile's centre ``(y, x)`` in pixels."""
        return (self.y0 + self.y1 - 1) / 2, (self.x0 + self.x1 - 1) / 2


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Starts of tiles of side ``tile`` covering ``length`` with at least ``overlap``.

    Examples:
        >>> tile_starts(100, 100, 10), tile_starts(250, 100, 20)
        ([0], [0, 75, 150])
    """
    if length <= tile:
        return [0]
    count = math.ceil((length - overlap) / (tile - overlap))
    step = (length - tile) / (count - 1)
    return [int(round(i * step)) for i in range(count)]


def tile_grid(height: int, width: int, tile: int, overlap: int) -> list[Tile]:
    """Tiles of side at most ``tile`` covering the image, neighbours overlapping by at
    least ``overlap``."""
    return [
        Tile(y0, min(y0 + tile, height), x0, min(x0 + tile, width))
        for y0 in tile_starts(height, tile, overlap)
        for x0 in tile_starts(width, tile, overlap)
    ]


def grid_of(height: int, width: int, rows: int, cols: int, overlap: int) -> list[Tile]:
    """``rows x cols`` tiles covering the image, neighbours overlapping by ``overlap``."""
    tile_h = min(height, math.ceil((height + (rows - 1) * overlap) / rows))
    tile_w = min(width, math.ceil((width + (cols - 1) * overlap) / cols))
    return [
        Tile(y0, min(y0 + tile_h, height), x0, min(x0 + tile_w, width))
        for y0 in tile_starts(height, tile_h, overlap)
        for x0 in tile_starts(width, tile_w, overlap)
    ]


def ramp(length: int, overlap: int, rise: bool, fall: bool) -> np.ndarray:
    """1 in the middle, linear ramps over ``overlap`` at the ends that neighbour a tile.

    Examples:
        >>> [round(float(w), 2) for w in ramp(6, 2, True, False)]
        [0.33, 0.67, 1.0, 1.0, 1.0, 1.0]
    """
    weights = np.ones(length, np.float32)
    edge = np.linspace(0.0, 1.0, overlap + 2, dtype=np.float32)[1:-1]
    n = min(overlap, length)
    if rise:
        weights[:n] = np.minimum(weights[:n], edge[:n])
    if fall:
        weights[length - n :] = np.minimum(weights[length - n :], edge[:n][::-1])
    return weights


def deconvolve_tiles(
    rgb: np.ndarray,
    tiles: list[Tile],
    kernels: list[np.ndarray],
    weight: float,
    overlap: int,
    progress: bool = False,
    on_stage: Stage | None = None,
    gamma: float = 1.0,
    suppress_ringing: bool = False,
    exponent: float = ALPHA,
) -> np.ndarray:
    """Deconvolve every channel of every tile with its kernel and blend the tiles with
    linear ramps over ``overlap`` (once for a gray image's equal channels). Several tiles
    under :data:`~deblurgan.deconv.threads.PARALLEL_PIXELS` are deconvolved side by side,
    one per core; larger ones (or one alone) one at a time, each on every core. Either way
    the result is the same.

    Args:
        rgb: The image, in linear light when ``gamma`` is not 1 (the clipping level moves).
        tiles: Rectangles covering the image.
        kernels: One kernel per tile (non-negative, summing to 1).
        weight: The data weight of :func:`~deblurgan.deconv.nonblind.deconvolve`.
        overlap: Width of the blend ramps, pixels.
        progress: Show a progress bar.
        on_stage: Hears :data:`SHARPENING` and the fraction done, in the calling thread, at
            every iteration of a large tile and as each small tile and channel is done (and
            may raise to stop).
        gamma: The display gamma ``rgb`` was decoded with.
        suppress_ringing: Remove ripples an imperfect kernel leaves beside strong edges
            (:func:`~deblurgan.deconv.ringing.deringed_deconvolution`, tile by tile).
        exponent: The hyper-Laplacian prior's exponent (``alpha`` of
            :func:`~deblurgan.deconv.nonblind.deconvolve`).

    Shape:
        - Input: :math:`(H, W, C)`; output the same, float32 in [0, 1].
    """
    channels = rgb.shape[2]
    gray = channels > 1 and all(np.array_equal(rgb[..., 0], rgb[..., c]) for c in range(channels))
    if gray:  # the channels are equal: deconvolve one
        rgb = rgb[..., :1]
    height, width, planes = rgb.shape
    clip_level = float(to_linear(np.float32(CLIPPED), gamma))
    units = [(tile, kernel, c) for tile, kernel in zip(tiles, kernels) for c in range(planes)]
    done = 0

    def report(fraction: float) -> None:
        if on_stage is not None:
            on_stage(SHARPENING, (done + fraction) / len(units))

    def sharpen(
        tile: Tile, kernel: np.ndarray, c: int, step: Callable[[float], None] | None = None
    ) -> np.ndarray:
        piece = rgb[tile.y0 : tile.y1, tile.x0 : tile.x1, c]
        sharp = deconvolve(piece, kernel, weight, exponent, step=step, clip_level=clip_level)
        if suppress_ringing:
            sharp = deringed_deconvolution(piece, kernel, sharp, clip_level=clip_level)
        return sharp

    largest = max(((t.y1 - t.y0) * (t.x1 - t.x0) for t in tiles), default=0)
    if budget() > 1 and len(tiles) > 1 and largest < PARALLEL_PIXELS:
        results = _side_by_side(sharpen, units, report)  # small tiles: one per core at once
    else:  # large tiles use every core within each (and one at a time bounds memory); a
        # photo in one tile is heard at every iteration
        results = (sharpen(*unit, step=report) for unit in units)
    out = np.zeros(rgb.shape, np.float32)
    total = np.zeros((height, width, 1), np.float32)
    bar = tqdm(total=len(units), desc="deconvolution", leave=False, disable=not progress)
    with bar, contextlib.closing(results):  # a cancel drops the small tiles not begun
        for (tile, _, c), sharp in zip(units, results):  # added in order: the same sums
            y0, y1, x0, x1 = tile.y0, tile.y1, tile.x0, tile.x1
            blend = (
                ramp(y1 - y0, overlap, y0 > 0, y1 < height)[:, None]
                * ramp(x1 - x0, overlap, x0 > 0, x1 < width)[None, :]
            )
            out[y0:y1, x0:x1, c] += blend * sharp
            if c == planes - 1:
                total[y0:y1, x0:x1, 0] += blend
            done += 1
            bar.update()
            report(0.0)
    result = np.clip(out / total, 0.0, 1.0)
    return result.repeat(channels, axis=2) if gray else result


def _side_by_side(
    sharpen: Callable[..., np.ndarray],
    units: list[tuple[Tile, np.ndarray, int]],
    step: Callable[[float], None],
) -> Iterator[np.ndarray]:
    """``sharpen(*unit)`` of every unit, computed :func:`~deblurgan.deconv.threads.budget`
    at a time with one thread each (the same results: tested), yielded in order and then
    let go; closing the iterator (a cancel) drops the units not begun. The first runs alone
    in the calling thread, heard by ``step`` at every iteration: compiled passes first
    called from two threads at once were measured to keep about 0.1 GiB more memory than
    when called from one."""

    def alone(*unit: object, step: Callable[[float], None] | None = None) -> np.ndarray:
        with thread_budget(1):
            return sharpen(*unit, step=step)

    yield alone(*units[0], step=step)
    with ThreadPoolExecutor(max_workers=budget()) as pool:
        jobs = collections.deque(pool.submit(alone, *unit) for unit in units[1:])
        try:
            while jobs:
                yield jobs.popleft().result()
        finally:
            for job in jobs:
                job.cancel()
