"""The kernel step: the kernel from a latent image's gradients and a blurred image's."""

import numpy as np
import pytest

from deblurgan.blur.apply import blur_image
from deblurgan.deconv import kernel_step as kernel_step_module
from deblurgan.deconv.fourier import gradients, periodic_extension
from deblurgan.deconv.kernel_shape import clean_kernel
from deblurgan.deconv.kernel_step import kernel_step

from .conftest import line_kernel


def test_kernel_step_recovers_the_kernel_from_the_sharp_image(scene, kernel):
    blurred = blur_image(scene[..., None], kernel)[..., 0]
    sharp_ext, (oy, ox) = periodic_extension(scene, 15)
    blurred_ext, _ = periodic_extension(blurred, 15)
    valid = np.zeros(sharp_ext.shape, np.float32)
    valid[oy + 7 : oy + 128 - 7, ox + 7 : ox + 128 - 7] = 1  # the extension is no evidence
    raw = kernel_step(gradients(sharp_ext), gradients(blurred_ext), 15, 1e-3, valid)
    assert np.abs(clean_kernel(raw) - kernel).sum() < 0.1  # L1 distance of two unit masses
    unmasked = kernel_step(gradients(sharp_ext), gradients(blurred_ext), 15, 1e-3)
    assert np.abs(clean_kernel(unmasked) - kernel).sum() > 0.2  # why the mask is there


def test_the_l1_term_keeps_the_kernel_compact_under_noise(scene):
    kernel = line_kernel(15, 9, 2)
    noisy = blur_image(scene[..., None], kernel, noise_std=0.02, rng=np.random.default_rng(3))
    noisy = noisy[..., 0].astype(np.float32)
    sharp_ext, (oy, ox) = periodic_extension(scene, 15)
    blurred_ext, _ = periodic_extension(noisy, 15)
    valid = np.zeros(sharp_ext.shape, np.float32)
    valid[oy + 7 : oy + 121, ox + 7 : ox + 121] = 1
    args = (gradients(sharp_ext), gradients(blurred_ext), 15, 1e-3, valid)
    sparse = kernel_step(*args, sparsity=0.01)
    plain = kernel_step(*args, sparsity=0.0)

    def support(raw: np.ndarray) -> int:
        return int((raw > 0.05 * raw.max()).sum())

    assert support(sparse) < support(plain) / 2  # 22 against 68 pixels
    assert support(sparse) <= 3 * int((kernel > 0).sum())


@pytest.mark.parametrize("size", [15, kernel_step_module.DIRECT_MAX])
def test_the_direct_and_the_fft_operator_give_the_same_kernel(scene, kernel, monkeypatch, size):
    blurred = blur_image(scene[..., None], kernel, noise_std=0.01, rng=np.random.default_rng(5))
    sharp_ext, _ = periodic_extension(scene, size)
    blurred_ext, _ = periodic_extension(blurred[..., 0].astype(np.float32), size)
    args = (gradients(sharp_ext), gradients(blurred_ext), size, 1e-3)
    assert size <= kernel_step_module.DIRECT_MAX  # summed directly, in compiled code
    direct = kernel_step(*args, sparsity=0.01)
    monkeypatch.setattr(kernel_step_module, "DIRECT_MAX", 0)  # through FFTs
    through_ffts = kernel_step(*args, sparsity=0.01)
    assert np.abs(direct - through_ffts).max() < 1e-6 * np.abs(direct).max()
    assert abs(float(direct.sum()) - 1.0) < 0.2  # a kernel (of unit mass), not zeros
