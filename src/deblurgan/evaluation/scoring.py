"""Scoring restored images: RGB or luma PSNR/SSIM, border crops, non-blind references."""

from __future__ import annotations

import numpy as np
import scipy.signal

from deblurgan.blur.apply import blur_image
from deblurgan.metrics import psnr, ssim, to_uint8_values

SSIM_MIN_SIDE = 11  # the SSIM window of deblurgan.metrics


def luma(rgb: np.ndarray) -> np.ndarray:
    """ITU-R BT.601 luma on the 8-bit scale (16..235), rounded, as MATLAB's rgb2ycbcr.

    Shape:
        - Input: :math:`(H, W, 3)` floats in [0, 1].
        - Output: :math:`(H, W)` uint8.
    """
    y = 16.0 + rgb.astype(np.float64) @ np.array([65.481, 128.553, 24.966])
    return np.clip(np.rint(y), 0, 255).astype(np.uint8)


def score(
    restored: np.ndarray,
    sharp: np.ndarray,
    y_channel: bool = False,
    border: int = 0,
    align: int = 0,
    subpixel: bool = False,
) -> dict[str, float]:
    """PSNR and SSIM of ``restored`` against ``sharp`` (both (H, W, 3) in [0, 1]).

    Args:
        y_channel: Score the BT.601 luma instead of RGB.
        border: Pixels cropped from every side first.
        align: If > 0, first find the integer shift within +-``align`` pixels that
            maximises PSNR (as Levin et al.'s evaluation compensates shifts: a
            blind method cannot know where the kernel's origin was); the border
            crop is then at least ``align``.
        subpixel: Instead of ``align``, Levin et al.'s protocol
            (:func:`~deblurgan.evaluation.subpixel.subpixel_aligned_psnr`): bilinear
            shifts in 0.25 px steps within +-5 px, a crop of at least 15 px.
    """
    if align < 0 or border < 0:
        raise ValueError(f"align and border must be 0 or more, got {align} and {border}")
    check_crop(*sharp.shape[:2], border, align, subpixel)
    if subpixel:
        from deblurgan.evaluation.subpixel import LEVIN_CROP, subpixel_aligned_psnr

        if align:
            raise ValueError("choose whole-pixel align or subpixel alignment, not both")
        found = subpixel_aligned_psnr(
            restored, sharp, crop=max(border, LEVIN_CROP), y_channel=y_channel
        )
        return {
            "psnr": found.psnr,
            "ssim": found.ssim,
            "shift_y": found.shift[0],
            "shift_x": found.shift[1],
        }
    a, b = (luma(restored), luma(sharp)) if y_channel else (restored, sharp)
    dy = dx = 0
    if align:
        border = max(border, align)
        dy, dx = best_shift(a, b, align, border)
    if border:
        h, w = b.shape[:2]
        a = a[border + dy : h - border + dy, border + dx : w - border + dx]
        b = b[border : h - border, border : w - border]
    result = {"psnr": psnr(a, b), "ssim": ssim(a, b)}
    if align:
        result.update(shift_y=dy, shift_x=dx)
    return result


def check_crop(
    height: int, width: int, border: int, align: int = 0, subpixel: bool = False
) -> None:
    """Refuse a crop (``border``, or the one ``align`` or ``subpixel`` needs) that leaves less
    of a ``height`` x ``width`` image than SSIM's window.

    Raises:
        ValueError: Naming ``--border`` (or the alignment), the sizes and the largest crop.
    """
    from deblurgan.evaluation.subpixel import LEVIN_CROP

    crop = max(border, LEVIN_CROP if subpixel else align)
    if min(height, width) - 2 * crop >= SSIM_MIN_SIDE:
        return
    cause = f"--border {border}"
    if crop > border:
        cause = f"a {crop} px crop (--align-subpixel)" if subpixel else f"--align {align}"
    raise ValueError(
        f"{cause} leaves {max(width - 2 * crop, 0)}x{max(height - 2 * crop, 0)} pixels of a "
        f"{width}x{height} image, and scoring needs {SSIM_MIN_SIDE}x{SSIM_MIN_SIDE}: crop at "
        f"most {max((min(height, width) - SSIM_MIN_SIDE) // 2, 0)} px from each side"
    )


def best_shift(a: np.ndarray, b: np.ndarray, radius: int, border: int) -> tuple[int, int]:
    """Integer ``(dy, dx)`` in +-radius such that ``a`` shifted by it best matches ``b``:
    the highest PSNR on 8-bit values over ``b`` cropped by ``border`` (the first such shift,
    ``dy`` then ``dx`` from -radius, on a tie).

    Every shift's squared error is found at once: the squared sums of ``a``'s windows by
    integral images and the cross terms by one FFT correlation per channel. On 8-bit values
    these are integers well below 2**53, so rounding them gives the exact errors (the same
    shift as trying each one: tested).

    Raises:
        ValueError: ``border`` is smaller than ``radius`` (a shift would leave the image).

    Shape:
        - Input: :math:`(H, W)` or :math:`(H, W, C)`, both the same.
    """
    if border < radius:
        raise ValueError(f"the border ({border}) must be at least the radius ({radius})")
    h, w = b.shape[:2]
    x, target = to_uint8_values(a), to_uint8_values(b[border : h - border, border : w - border])
    if x.ndim == 2:
        x, target = x[..., None], target[..., None]
    window = x[border - radius : h - border + radius, border - radius : w - border + radius]
    th, tw = target.shape[:2]
    integral = np.pad(np.square(window).sum(axis=2), ((1, 0), (1, 0))).cumsum(0).cumsum(1)
    energy = integral[th:, tw:] - integral[:-th, tw:] - integral[th:, :-tw] + integral[:-th, :-tw]
    cross = sum(
        scipy.signal.fftconvolve(window[..., c], target[::-1, ::-1, c], mode="valid")
        for c in range(x.shape[2])
    )
    errors = np.rint(energy - 2.0 * cross)  # the squared error less the target's energy
    dy, dx = np.unravel_index(int(np.argmin(errors)), errors.shape)
    return int(dy) - radius, int(dx) - radius


def oriented_kernel(kernel: np.ndarray, blurred: np.ndarray, sharp: np.ndarray) -> np.ndarray:
    """The kernel, as stored or rotated 180 degrees, that re-blurs ``sharp`` closer to ``blurred``.

    Kernel files do not say whether they were applied by convolution or correlation
    (the shared Levin copy mixes both); re-blurring the sharp image settles it.
    """
    candidates = [kernel / kernel.sum(), kernel[::-1, ::-1] / kernel.sum()]
    fits = [score(blur_image(sharp, k), blurred, align=8)["psnr"] for k in candidates]
    return candidates[int(np.argmax(fits))]


def nonblind_references(blurred: np.ndarray, kernel: np.ndarray) -> dict[str, np.ndarray]:
    """Richardson-Lucy (30 iterations), Wiener (balance 0.01) and hyper-Laplacian
    deconvolution (:func:`deblurgan.deconv.nonblind.deconvolve`, the final step of
    ``--method l0``) with the *true* kernel.

    These know the blur, so they are an upper reference for blind methods, not competitors.
    Each channel is restored separately (scikit-image's with circular boundaries). ``kernel``
    must be oriented for convolution (see :func:`oriented_kernel`).
    """
    from skimage.restoration import richardson_lucy, wiener

    from deblurgan.deconv.blind import LUMA
    from deblurgan.deconv.nonblind import deconvolve, noise_data_weight

    psf = (kernel / kernel.sum()).astype(np.float32)
    weight = noise_data_weight(blurred @ LUMA)  # as --method l0 does
    out = {
        name: np.empty_like(blurred) for name in ("richardson_lucy", "wiener", "hyper_laplacian")
    }
    for c in range(blurred.shape[2]):
        channel = blurred[..., c].astype(np.float64)
        out["richardson_lucy"][..., c] = richardson_lucy(channel, psf, num_iter=30, clip=True)
        out["wiener"][..., c] = wiener(channel, psf, balance=0.01, clip=True)
        out["hyper_laplacian"][..., c] = deconvolve(blurred[..., c].astype(np.float32), psf, weight)
    return {k: np.clip(v, 0.0, 1.0).astype(np.float32) for k, v in out.items()}
