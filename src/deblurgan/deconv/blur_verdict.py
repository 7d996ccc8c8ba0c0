"""Is a photo blurred at all? The estimated kernel's spread says: one that collapsed to
(nearly) one pixel means no blur was found, a diffuse cloud means the estimate failed; in
both cases ``l0`` returns the photo unchanged (deconvolving with an invented kernel only
adds ringing)."""

from __future__ import annotations

import numpy as np

# kernel_spread above this times the side: a diffuse cloud, a failed estimate. Camera shake
# longer than the side gives thick, squashed paths that still deblur: on 96 training crops
# shaken 45-240 px long (benchmarks/large_shake.py) four estimates spread 3.0-4.0 times the
# side and each gained 0.11-1.94 dB (round 8; the bound was 3, which left them unchanged).
# A kernel of side 5 or less (spread at most side^2) is never called diffuse.
MAX_SPREAD_PER_SIDE = 5.0
MIN_BLUR_SPREAD = 5.0  # kernel_spread below this: no blur (20 sharp training photos: 1.7-4.7)


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
