"""Fourier-domain building blocks of deconvolution: kernel transfer functions, finite
differences, and a smooth periodic extension that keeps image borders from ringing.

Convention (as :func:`deblurgan.blur.apply.blur_image`): a kernel's pixel ``k // 2`` is its
origin, and blurring is convolution. Every transform here is a real FFT (``rfft2``) over the
last two axes, in float32/complex64, on the threads :func:`~deblurgan.deconv.threads.budget`
allows.
"""

from __future__ import annotations

import functools

import numpy as np
import scipy.fft

from deblurgan.deconv.threads import budget


def rfft2(image: np.ndarray) -> np.ndarray:
    """2-D real FFT over the last two axes (complex64 for float32 input)."""
    return scipy.fft.rfft2(image, workers=budget())


def irfft2(spectrum: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Inverse of :func:`rfft2` for an image of ``shape`` (the last two axes)."""
    return scipy.fft.irfft2(spectrum, s=shape, workers=budget())


def psf_to_otf(kernel: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The transfer function (``rfft2``) of ``kernel`` for circular convolution on ``shape``.

    Shape:
        - Input: :math:`(k_h, k_w)` with :math:`k_h \\le H, k_w \\le W`.
        - Output: :math:`(H, W // 2 + 1)`, complex64.

    Examples:
        >>> otf = psf_to_otf(np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], np.float32), (4, 4))
        >>> bool(np.allclose(otf, 1))
        True
    """
    kh, kw = kernel.shape
    if kh > shape[0] or kw > shape[1]:
        raise ValueError(f"kernel {kernel.shape} is larger than the image {shape}")
    canvas = np.zeros(shape, np.float32)  # the kernel's origin wrapped to pixel (0, 0)
    rows = (np.arange(kh) - kh // 2) % shape[0]
    cols = (np.arange(kw) - kw // 2) % shape[1]
    canvas[np.ix_(rows, cols)] = kernel
    return rfft2(canvas).astype(np.complex64, copy=False)


def centre_window(image: np.ndarray, size: int) -> np.ndarray:
    """The ``size x size`` window around the origin of a circular spatial response (a
    kernel or a correlation), the origin moved to pixel ``size // 2``; the spatial
    counterpart of :func:`psf_to_otf`.

    Shape:
        - Input: :math:`(H, W)` real, spatial.
        - Output: :math:`(size, size)`.
    """
    half = size // 2
    rolled = np.roll(image, (half, half), axis=(0, 1))
    return rolled[:size, :size].copy()


def difference_otfs(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Transfer functions of the forward differences ``x[i+1] - x[i]`` along x and along y."""
    dx = np.zeros((1, 3), np.float32)
    dx[0, 0], dx[0, 1] = 1.0, -1.0  # convolution: (dx * u)[j] = u[j + 1] - u[j]
    return psf_to_otf(dx, shape), psf_to_otf(dx.T.copy(), shape)


@functools.lru_cache(maxsize=16)
def gradient_energy(shape: tuple[int, int]) -> np.ndarray:
    """:math:`|D_x|^2 + |D_y|^2` on the :func:`rfft2` grid of ``shape``, the smoothness term
    of every splitting step, in closed form (:math:`4 - 2\\cos\\omega_x - 2\\cos\\omega_y`),
    cached per shape: read-only.

    Shape:
        - Output: :math:`(H, W // 2 + 1)`, float32.
    """
    height, width = shape
    wy = 2 * np.pi * np.fft.fftfreq(height)[:, None]
    wx = 2 * np.pi * np.fft.rfftfreq(width)[None, :]
    energy = (4.0 - 2.0 * np.cos(wx) - 2.0 * np.cos(wy)).astype(np.float32)
    energy.flags.writeable = False
    return energy


def gradients(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Circular forward differences along x and y (the operators of :func:`difference_otfs`).

    Shape:
        - Input: :math:`(..., H, W)`; outputs the same shape.
    """
    return np.roll(image, -1, axis=-1) - image, np.roll(image, -1, axis=-2) - image


def divergence(gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """The adjoint of :func:`gradients` applied to ``(gx, gy)``: :math:`D_x^T g_x + D_y^T g_y`."""
    return (np.roll(gx, 1, axis=-1) - gx) + (np.roll(gy, 1, axis=-2) - gy)


def periodic_extension(
    image: np.ndarray, pad: int, fast: bool = True
) -> tuple[np.ndarray, tuple[int, int]]:
    """Extend ``image`` by at least ``pad`` pixels so that it is smooth across the borders of
    its periodic repetition, the assumption of every FFT deconvolution.

    Each band between the right edge and the (wrapped) left edge blends the mirror image of
    the right edge into the mirror image of the left edge with a smooth weight, so the
    extended image is continuous at the original borders and across the wrap-around seam;
    rows and columns are extended in turn. Without it, an FFT deconvolution sees the
    border jump as an edge and rings.

    Args:
        image: 2-D image, or a stack with the image axes last.
        pad: Minimum extension per side (usually the kernel size).
        fast: Round the extended size up to a fast FFT length.

    Returns:
        The extended image and the offsets ``(oy, ox)`` of the original within it:
        ``extended[..., oy:oy + H, ox:ox + W] == image``.

    Shape:
        - Input: :math:`(..., H, W)`.
        - Output: :math:`(..., H', W')` with :math:`H' \\ge H + 2 \\cdot pad`.
    """
    pad = max(int(pad), 1)
    height, width = image.shape[-2:]
    sizes = [n + 2 * pad for n in (height, width)]
    if fast:
        sizes = [scipy.fft.next_fast_len(s, real=True) for s in sizes]
    offsets = ((sizes[0] - height) // 2, (sizes[1] - width) // 2)
    out = _extend_axis(image.astype(np.float32, copy=False), sizes[1], offsets[1], axis=-1)
    return _extend_axis(out, sizes[0], offsets[0], axis=-2), offsets


def _extend_axis(image: np.ndarray, size: int, offset: int, axis: int) -> np.ndarray:
    """Extend one axis to ``size`` with a blended mirror band, the original at ``offset``."""
    n = image.shape[axis]
    band = size - n
    if band <= 0:
        return image
    j = np.arange(band)
    from_end = np.clip(n - 2 - j, 0, n - 1)  # mirror of the far edge, stepping outwards
    from_start = np.clip(band - j, 0, n - 1)  # mirror of the near edge (reached by wrapping)
    t = (j + 1) / (band + 1)
    weight = (t * t * (3 - 2 * t)).astype(np.float32)  # smoothstep: 0 at the far edge, 1 near
    shape = [1] * image.ndim
    shape[axis] = band
    weight = weight.reshape(shape)
    filled = (1 - weight) * np.take(image, from_end, axis=axis) + weight * np.take(
        image, from_start, axis=axis
    )
    extended = np.concatenate([image, filled.astype(np.float32)], axis=axis)
    return np.roll(extended, offset, axis=axis)


def crop(image: np.ndarray, offsets: tuple[int, int], shape: tuple[int, int]) -> np.ndarray:
    """The ``shape`` window at ``offsets`` of the last two axes (undoes the extension)."""
    (oy, ox), (h, w) = offsets, shape
    return image[..., oy : oy + h, ox : ox + w]
