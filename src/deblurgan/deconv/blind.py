"""Blind deconvolution of photos (``--method l0``): estimate one camera-shake kernel on the
luminance, decide whether the photo is blurred at all, then deconvolve every colour channel.

The steps, each a plain function:

1. :func:`automatic_kernel_size` (unless the user gives one);
2. :func:`edge_window`: the square region with the most edges, where the kernel is estimated
   (:func:`~deblurgan.deconv.kernel_estimation.estimate_kernel`), on an image reduced to
   :data:`ESTIMATION_LONG_SIDE` pixels when larger (the kernel is scaled back up);
3. :func:`blur_verdict`, on the kernel at the estimation scale: a kernel that collapsed to
   (nearly) one pixel (:func:`kernel_spread`) means no blur was found, and the photo is
   returned unchanged: deconvolving a sharp photo with an invented kernel only adds
   ringing; a diffuse cloud instead of a path means the estimate failed, and the photo is
   returned unchanged too;
4. :func:`deconvolve_rgb`: hyper-Laplacian deconvolution per channel
   (:func:`~deblurgan.deconv.nonblind.deconvolve`), in overlapping tiles for large images.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
from tqdm import tqdm

from deblurgan.deconv.kernel_estimation import estimate_kernel, resize_kernel
from deblurgan.deconv.nonblind import deconvolve, noise_data_weight
from deblurgan.restoration import Restoration

LUMA = np.array([0.299, 0.587, 0.114], np.float32)  # BT.601
ESTIMATION_WINDOW = 400  # side of the region the kernel is estimated on, pixels
ESTIMATION_LONG_SIDE = 1600  # larger images are reduced to this for the kernel estimate
TILE = 4096  # deconvolution tile side: larger images go in tiles, bounding memory
MIN_SIDE = 32  # smaller images are returned unchanged
MAX_SPREAD_PER_SIDE = 3.0  # kernel_spread above this times the side: a diffuse, failed estimate
MIN_BLUR_SPREAD = 5.0  # kernel_spread below this: no blur (20 sharp training photos: 1.7-4.7)
MIN_CONTRAST = 2.0 / 255  # luminance standard deviation below this: nothing to estimate from
ESTIMATING, SHARPENING = "estimating the blur", "sharpening"  # the stages, in plain words
Stage = Callable[[str, float], None]  # (stage, fraction done): may raise to stop the work


def automatic_kernel_size(height: int, width: int) -> int:
    """The kernel side used when none is given: 31 pixels (enough for the camera shake of
    Levin et al.'s benchmark, up to 27 pixels, and of most hand-held photos up to about
    1 MP), 2.5% of the longer side for larger images, and never more than a seventh of the
    shorter side (the estimate needs several kernel widths of image); always odd.

    Examples:
        >>> automatic_kernel_size(255, 255), automatic_kernel_size(720, 1280)
        (31, 33)
        >>> automatic_kernel_size(3000, 4000), automatic_kernel_size(40, 60)
        (101, 5)
    """
    cap = min(height, width) // 7
    cap -= cap % 2 == 0
    return max(min(max(31, int(round(0.025 * max(height, width)))) | 1, cap), 3)


def edge_window(gray: np.ndarray, side: int) -> tuple[int, int]:
    """Top-left corner of the ``side x side`` window holding the most gradient magnitude.

    Shape:
        - Input: :math:`(H, W)`.
    """
    height, width = gray.shape
    if side >= height and side >= width:
        return 0, 0
    gy, gx = np.gradient(gray.astype(np.float32))
    magnitude = np.hypot(gx, gy)
    sh, sw = min(side, height), min(side, width)
    integral = cv2.integral(magnitude, sdepth=cv2.CV_64F)
    sums = integral[sh:, sw:] - integral[:-sh, sw:] - integral[sh:, :-sw] + integral[:-sh, :-sw]
    y, x = np.unravel_index(int(np.argmax(sums)), sums.shape)
    return int(y), int(x)


def kernel_spread(kernel: np.ndarray) -> float:
    """How many pixels a kernel effectively spreads a point over: :math:`1 / \\sum k^2`
    (1 for a delta, ``n`` for ``n`` equal pixels).

    Examples:
        >>> kernel_spread(np.full((3, 3), 1 / 9))
        9.0
    """
    return float(1.0 / np.sum(np.square(kernel, dtype=np.float64)))


def blur_verdict(kernel: np.ndarray) -> str | None:
    """Why a photo with this estimated kernel is left alone, or None to deconvolve it:
    a spread under :data:`MIN_BLUR_SPREAD` (no blur) or over :data:`MAX_SPREAD_PER_SIDE`
    times the side (a diffuse cloud, not a camera path: the estimate failed).

    Examples:
        >>> blur_verdict(np.pad(np.ones((1, 1)), 4))
        'no blur found (kernel spread 1.0 px)'
        >>> blur_verdict(np.full((1, 9), 1 / 9)) is None
        True
    """
    spread = kernel_spread(kernel)
    if spread < MIN_BLUR_SPREAD:
        return f"no blur found (kernel spread {spread:.1f} px)"
    if spread > MAX_SPREAD_PER_SIDE * max(kernel.shape):
        return f"the kernel estimate is diffuse (spread {spread:.0f} px), not a camera shake"
    return None


def deconvolve_rgb(
    rgb: np.ndarray,
    kernel: np.ndarray,
    weight: float,
    progress: bool = False,
    on_stage: Stage | None = None,
) -> np.ndarray:
    """Deconvolve every channel with ``kernel`` (once for a gray image's equal channels);
    images larger than :data:`TILE` go in overlapping tiles (overlap two kernel sides,
    linearly blended) to bound memory. ``on_stage`` hears :data:`SHARPENING` and the
    fraction done before every tile and channel (and may raise to stop).

    Shape:
        - Input: :math:`(H, W, C)`; output the same, float32 in [0, 1].
    """
    channels = rgb.shape[2]
    if channels > 1 and all(np.array_equal(rgb[..., 0], rgb[..., c]) for c in range(channels)):
        gray = deconvolve_rgb(rgb[..., :1], kernel, weight, progress, on_stage)
        return gray.repeat(channels, axis=2)
    height, width = rgb.shape[:2]
    overlap = 2 * kernel.shape[0]
    starts_y = _tile_starts(height, TILE, overlap)
    starts_x = _tile_starts(width, TILE, overlap)
    out = np.zeros(rgb.shape, np.float32)
    total = np.zeros((height, width, 1), np.float32)
    steps = len(starts_y) * len(starts_x) * channels
    done = 0

    def report(fraction: float) -> None:
        if on_stage is not None:
            on_stage(SHARPENING, (done + fraction) / steps)

    with tqdm(total=steps, desc="deconvolution", leave=False, disable=not progress) as bar:
        for y0 in starts_y:
            for x0 in starts_x:
                y1, x1 = min(y0 + TILE, height), min(x0 + TILE, width)
                blend = (
                    _ramp(y1 - y0, overlap, y0 > 0, y1 < height)[:, None]
                    * _ramp(x1 - x0, overlap, x0 > 0, x1 < width)[None, :]
                )
                for c in range(channels):
                    tile = deconvolve(rgb[y0:y1, x0:x1, c], kernel, weight, step=report)
                    out[y0:y1, x0:x1, c] += blend * tile
                    done += 1
                    bar.update()
                total[y0:y1, x0:x1, 0] += blend
    return np.clip(out / total, 0.0, 1.0)


def _tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    if length <= tile:
        return [0]
    count = math.ceil((length - overlap) / (tile - overlap))
    step = (length - tile) / (count - 1)
    return [int(round(i * step)) for i in range(count)]


def _ramp(length: int, overlap: int, rise: bool, fall: bool) -> np.ndarray:
    """1 in the middle, linear ramps over ``overlap`` at the ends that neighbour a tile."""
    ramp = np.ones(length, np.float32)
    edge = np.linspace(0.0, 1.0, overlap + 2, dtype=np.float32)[1:-1]
    n = min(overlap, length)
    if rise:
        ramp[:n] = np.minimum(ramp[:n], edge[:n])
    if fall:
        ramp[length - n :] = np.minimum(ramp[length - n :], edge[:n][::-1])
    return ramp


class BlindDeconvolution:
    """Blind deconvolution with an L0 prior (Xu et al. 2013) as a deblurring method.

    Args:
        kernel_size: Kernel side in pixels (odd, at least 3); None:
            :func:`automatic_kernel_size` per image.
        progress: Show progress bars for the kernel estimate and the deconvolution.
        on_stage: Called with a stage in plain words (:data:`ESTIMATING`,
            :data:`SHARPENING`) and the fraction of it done, often (every estimation round,
            every deconvolution iteration); an exception it raises stops the work there
            and propagates (a cancel).

    Examples:
        >>> flat = np.full((40, 40, 3), 0.5, np.float32)
        >>> result = BlindDeconvolution().restore(flat)
        >>> bool(np.array_equal(result.rgb, flat)), result.note is not None
        (True, True)
    """

    name = "l0"

    def __init__(
        self, kernel_size: int | None = None, progress: bool = False, on_stage: Stage | None = None
    ) -> None:
        if kernel_size is not None and (kernel_size < 3 or kernel_size % 2 == 0):
            raise ValueError(f"--kernel-size must be odd and at least 3, got {kernel_size}")
        self.kernel_size, self.progress, self.on_stage = kernel_size, progress, on_stage

    def estimate(self, rgb: np.ndarray) -> tuple[np.ndarray | None, str | None]:
        """The image's blur kernel and, when the photo is to be left alone, why (no kernel
        could be estimated: kernel None; no blur found or a failed, diffuse estimate).

        Raises:
            ValueError: The given kernel size is larger than the image.
        """
        height, width = rgb.shape[:2]
        if self.kernel_size is not None and self.kernel_size > min(height, width):
            raise ValueError(
                f"kernel size {self.kernel_size} px is larger than the image "
                f"({width}x{height}); give a smaller --kernel-size"
            )
        if min(height, width) < MIN_SIDE:
            return None, f"too small to estimate a blur kernel ({width}x{height})"
        gray = rgb.astype(np.float32) @ LUMA
        if float(gray.std()) < MIN_CONTRAST:
            return None, "no edges to estimate a blur kernel from (a flat image)"
        size = self.kernel_size or automatic_kernel_size(height, width)
        scale = min(1.0, ESTIMATION_LONG_SIDE / max(height, width))
        if scale < 1:
            reduced = (max(int(round(width * scale)), 1), max(int(round(height * scale)), 1))
            gray = cv2.resize(gray, reduced, interpolation=cv2.INTER_AREA)
            if min(gray.shape) < MIN_SIDE:
                return None, f"too narrow to estimate a blur kernel ({width}x{height})"
        fits = min(gray.shape) - (min(gray.shape) % 2 == 0)  # the largest odd side that fits
        small_size = min(max(int(round(size * scale)) | 1, 3), fits)
        window = max(ESTIMATION_WINDOW, 8 * small_size)
        y0, x0 = edge_window(gray, window)
        region = gray[y0 : y0 + window, x0 : x0 + window]
        bar = tqdm(desc="kernel estimate", unit="round", leave=False, disable=not self.progress)

        def advance(done: int, rounds: int) -> None:
            bar.total = rounds
            bar.update(done - bar.n)
            if self.on_stage is not None:
                self.on_stage(ESTIMATING, done / rounds)

        kernel = estimate_kernel(region, small_size, progress=advance)
        bar.close()
        verdict = blur_verdict(kernel)  # at the estimation scale: enlarging spreads a kernel
        return (resize_kernel(kernel, size) if small_size != size else kernel), verdict

    def restore(self, rgb: np.ndarray) -> Restoration:
        """Deblur one ``(H, W, 3)`` image in [0, 1]; returned unchanged, with a note, when
        no blur is found or nothing can be estimated."""
        if rgb.ndim != 3 or rgb.shape[-1] != 3:
            raise ValueError(f"expected an (H, W, 3) RGB array, got {rgb.shape}")
        rgb = rgb.astype(np.float32, copy=False)
        kernel, note = self.estimate(rgb)
        if note is not None:
            return Restoration(rgb, kernel, f"{note}; returned unchanged")
        weight = noise_data_weight(rgb @ LUMA)
        sharp = deconvolve_rgb(rgb, kernel, weight, self.progress, self.on_stage)
        return Restoration(sharp, kernel)

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """Deblur an ``(H, W, 3)`` image or each image of an ``(N, H, W, 3)`` stack."""
        if rgb.ndim == 4:
            return np.stack([self.restore(image).rgb for image in rgb])
        return self.restore(rgb).rgb

    def settings(self) -> dict[str, Any]:
        """What a report records about this method."""
        return {"method": self.name, "kernel_size": self.kernel_size or "auto"}
