"""Motion-blur synthesis: random camera-shake kernels, blurring, and frame averaging."""

from deblurgan.blur.apply import add_noise, blur_image
from deblurgan.blur.frames import average_frames, frame_windows
from deblurgan.blur.kernels import KernelBatch, sample_kernels
from deblurgan.blur.psf import DEFAULT_EXPOSURES, render_psfs, tight_crop
from deblurgan.blur.torch_blur import blur_batch
from deblurgan.blur.trajectory import DEFAULT_PRESET, PRESETS, sample_trajectories

__all__ = [
    "DEFAULT_EXPOSURES",
    "DEFAULT_PRESET",
    "PRESETS",
    "KernelBatch",
    "add_noise",
    "average_frames",
    "blur_batch",
    "blur_image",
    "frame_windows",
    "render_psfs",
    "sample_kernels",
    "sample_trajectories",
    "tight_crop",
]
