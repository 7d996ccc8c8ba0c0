import numpy as np
import pytest

from deblurgan.blur.apply import blur_image
from deblurgan.deconv.fourier import (
    crop,
    difference_otfs,
    divergence,
    gradient_energy,
    gradients,
    irfft2,
    periodic_extension,
    psf_to_otf,
    rfft2,
)


def test_otf_convolution_matches_blur_image_away_from_borders():
    rng = np.random.default_rng(0)
    image = rng.random((40, 48)).astype(np.float32)
    kernel = rng.random((5, 7)).astype(np.float32)
    kernel /= kernel.sum()
    circular = irfft2(rfft2(image) * psf_to_otf(kernel, image.shape), image.shape)
    reference = blur_image(image[..., None], kernel)[..., 0]
    assert np.allclose(circular[6:-6, 6:-6], reference[6:-6, 6:-6], atol=1e-5)


def test_otf_of_a_larger_kernel_is_refused():
    with pytest.raises(ValueError, match="larger than the image"):
        psf_to_otf(np.ones((9, 9), np.float32), (8, 8))


def test_divergence_is_the_adjoint_of_gradients():
    rng = np.random.default_rng(1)
    u = rng.standard_normal((12, 10))
    gx, gy = rng.standard_normal((2, 12, 10))
    ux, uy = gradients(u)
    assert np.isclose((ux * gx).sum() + (uy * gy).sum(), (u * divergence(gx, gy)).sum())


def test_difference_otfs_are_the_gradients():
    rng = np.random.default_rng(2)
    u = rng.random((16, 18)).astype(np.float32)
    otf_x, otf_y = difference_otfs(u.shape)
    gx, gy = gradients(u)
    assert np.allclose(irfft2(rfft2(u) * otf_x, u.shape), gx, atol=1e-5)
    assert np.allclose(irfft2(rfft2(u) * otf_y, u.shape), gy, atol=1e-5)


def test_gradient_energy_is_that_of_the_difference_otfs():
    for shape in [(16, 18), (15, 9)]:
        otf_x, otf_y = difference_otfs(shape)
        assert np.allclose(
            gradient_energy(shape), np.abs(otf_x) ** 2 + np.abs(otf_y) ** 2, atol=1e-5
        )


def test_periodic_extension_keeps_the_image_and_removes_the_wrap_around_jump():
    y, x = np.mgrid[0:40, 0:60].astype(np.float32)
    ramp = 0.8 * x / 59 + 0.2 * y / 39  # jumps by 0.8 where it wraps around
    extended, offsets = periodic_extension(ramp, 12)
    assert np.array_equal(crop(extended, offsets, ramp.shape), ramp)
    assert extended.shape[0] >= 40 + 24 and extended.shape[1] >= 60 + 24
    wrapped_x = np.diff(np.concatenate([extended, extended[:, :1]], axis=1), axis=1)
    wrapped_y = np.diff(np.concatenate([extended, extended[:1]], axis=0), axis=0)
    assert np.abs(wrapped_x).max() < 0.05 and np.abs(wrapped_y).max() < 0.05


def test_the_thread_budget_changes_the_speed_not_the_result_and_stays_in_its_block():
    import threading

    from deblurgan.deconv import fourier, threads

    image = np.random.default_rng(0).random((96, 130)).astype(np.float32)
    default = fourier.rfft2(image)
    seen = []
    with threads.thread_budget(1):
        one = fourier.rfft2(image)
        seen.append(threads.budget())
        other = threading.Thread(target=lambda: seen.append(threads.budget()))
        other.start()
        other.join()
    assert np.array_equal(one, default)
    assert np.array_equal(fourier.irfft2(one, image.shape), fourier.irfft2(default, image.shape))
    assert seen == [1, threads.WORKERS] and threads.budget() == threads.WORKERS
