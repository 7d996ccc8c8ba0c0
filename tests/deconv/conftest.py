"""Small synthetic scenes for deconvolution tests: piecewise-constant shapes (the L0 prior's
ideal), fast to deblur."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import scipy.signal

from deblurgan.deconv.blind import BlindSettings
from deblurgan.deconv.kernel_estimation import EstimationSettings

# For tests whose subject is not the choice between kernel estimates: the default estimate
# of 8 rounds a level (still at both gammas, as l0 runs), not round 10's costlier pair.
ONE_ESTIMATE = BlindSettings(estimation=EstimationSettings(), alternatives=())


def shapes_scene(size: int = 128, seed: int = 0) -> np.ndarray:
    """Gray rectangles and discs of random shades on a mid-gray background, in [0.1, 0.9]."""
    rng = np.random.default_rng(seed)
    image = np.full((size, size), 0.5, np.float32)
    for _ in range(14):
        shade = float(rng.uniform(0.1, 0.9))
        x, y = (int(v) for v in rng.integers(0, size, 2))
        if rng.random() < 0.5:
            w, h = (int(v) for v in rng.integers(size // 10, size // 3, 2))
            cv2.rectangle(image, (x, y), (x + w, y + h), shade, -1)
        else:
            cv2.circle(image, (x, y), int(rng.integers(size // 16, size // 6)), shade, -1)
    return image


def line_kernel(size: int = 15, length: int = 9, rise: int = 4) -> np.ndarray:
    """A straight motion-blur kernel, centred, summing to 1."""
    kernel = np.zeros((size, size), np.float32)
    c = size // 2
    cv2.line(kernel, (c - length // 2, c - rise // 2), (c + length // 2, c + rise // 2), 1.0, 1)
    return kernel / kernel.sum()


@pytest.fixture
def scene() -> np.ndarray:
    return shapes_scene()


@pytest.fixture
def kernel() -> np.ndarray:
    return line_kernel()


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Peak normalised cross-correlation over all shifts (1: the same kernel, anywhere)."""
    c = scipy.signal.correlate2d(a, b, mode="full")
    return float(c.max() / (np.linalg.norm(a) * np.linalg.norm(b)))


def faint_mass(kernel: np.ndarray) -> float:
    """Fraction of a kernel's mass in values under a tenth of its peak (measured camera
    shake holds 3-20%: where the hand moved fast)."""
    return float(kernel[kernel < 0.1 * kernel.max()].sum() / kernel.sum())
