"""Motion-blur synthesis: random camera-shake kernels, blurring, and frame averaging.

The names below are imported on first use (PEP 562), so that a module needing one part
(``deblurgan.blur.frames``) does not pay for the others' imports (SciPy's signal
package, numba).
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> module that defines it
_EXPORTS = {
    "add_noise": "deblurgan.blur.apply",
    "blur_image": "deblurgan.blur.apply",
    "average_frames": "deblurgan.blur.frames",
    "frame_windows": "deblurgan.blur.frames",
    "KernelBatch": "deblurgan.blur.kernels",
    "sample_kernels": "deblurgan.blur.kernels",
    "DEFAULT_EXPOSURES": "deblurgan.blur.psf",
    "render_psfs": "deblurgan.blur.psf",
    "tight_crop": "deblurgan.blur.psf",
    "blur_batch": "deblurgan.blur.torch_blur",
    "DEFAULT_PRESET": "deblurgan.blur.trajectory",
    "PRESETS": "deblurgan.blur.trajectory",
    "sample_trajectories": "deblurgan.blur.trajectory",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'deblurgan.blur' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
