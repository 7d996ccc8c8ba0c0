"""A hand's speed that varies during the exposure: constant-speed paths re-timed.

The trajectories of :mod:`deblurgan.blur.trajectory` move at one speed (every step has the
same length), so every point of a kernel's path holds about the same mass. A hand does not:
it dwells, then moves fast, and the kernel is bright where it dwelt and faint where it
moved fast (measured camera shake, e.g. Levin et al. 2009, has such faint tails). Here the
log of the speed is a smooth Gaussian process in time; the path keeps its shape and length
and is traversed faster or slower, so rendering its points, equally spaced in time, gives
each part of the path a mass proportional to the time spent there.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d


def vary_speed(
    paths: np.ndarray,
    rng: np.random.Generator,
    variation: float = 1.0,
    correlation: float = 0.1,
) -> np.ndarray:
    """Re-time constant-speed paths so that their speed varies smoothly in time.

    Args:
        paths: Complex positions, equally spaced along each path (constant speed);
            shape (N, M).
        rng: Source of randomness.
        variation: Standard deviation of the log speed (0: unchanged; 1: the speed is
            within a factor e of its typical value two thirds of the time).
        correlation: How long the speed stays alike, as a fraction of the exposure (the
            standard deviation of the Gaussian smoothing of white noise in time).

    Returns:
        The same paths, sampled at M equally spaced times, shape (N, M), complex128:
        the first and last points are unchanged.

    Examples:
        >>> line = np.linspace(0, 10, 101)[None].astype(complex)
        >>> out = vary_speed(line, np.random.default_rng(0))
        >>> bool(out[0, 0] == 0 and abs(out[0, -1] - 10) < 1e-9)
        True
        >>> bool(np.all(np.diff(out.real) >= 0))  # the same path, only re-timed
        True
    """
    if paths.ndim != 2 or paths.shape[1] < 2:
        raise ValueError(f"paths must have shape (N, M) with M >= 2, got {paths.shape}")
    if not variation >= 0 or not correlation > 0:
        raise ValueError(
            f"variation must be >= 0 and correlation > 0, got {variation}, {correlation}"
        )
    n, steps = paths.shape
    paths = np.asarray(paths, dtype=np.complex128)
    if variation == 0 or n == 0:
        return paths.copy()
    noise = gaussian_filter1d(rng.standard_normal((n, steps - 1)), correlation * steps, axis=1)
    noise -= noise.mean(axis=1, keepdims=True)
    noise /= np.maximum(noise.std(axis=1, keepdims=True), 1e-12)
    speed = np.exp(variation * noise)  # path steps covered per time step, up to a factor
    travelled = np.concatenate([np.zeros((n, 1)), np.cumsum(speed, axis=1)], axis=1)
    travelled *= (steps - 1) / travelled[:, -1:]  # where along the path, in path steps
    index = np.arange(steps)
    out = np.empty_like(paths)
    for i in range(n):
        out[i] = np.interp(travelled[i], index, paths[i].real) + 1j * np.interp(
            travelled[i], index, paths[i].imag
        )
    return out
