"""Motion-blur synthesis: random camera-shake kernels, blurring, and frame averaging.

The names below are imported on first use (PEP 562), so that a module needing one part
(``deblurgan.blur.frames``) does not pay for the others' imports (SciPy's signal
package, numba).
"""

from __future__ import annotations

from deblurgan.lazy import lazy_exports

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
    "DEFAULT_PRESET": "deblurgan.blur.trajectory",
    "PRESETS": "deblurgan.blur.trajectory",
    "sample_trajectories": "deblurgan.blur.trajectory",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
