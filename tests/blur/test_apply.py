import numpy as np
import pytest
from scipy.signal import convolve2d

from deblurgan.blur.apply import blur_image, kernel_padding
from deblurgan.blur.kernels import sample_kernels


def _kernel(shape=(7, 6)):
    rng = np.random.default_rng(list(shape))
    k = rng.random(shape)
    return k / k.sum()


@pytest.mark.parametrize("kshape", [(5, 5), (7, 6), (4, 9)])
def test_fft_equals_direct_convolution_with_mirrored_borders(kshape):
    rng = np.random.default_rng(0)
    image = rng.random((23, 31)).astype(np.float32)
    kernel = _kernel(kshape)
    padded = np.pad(image, kernel_padding(kshape), mode="reflect")
    direct = convolve2d(padded, kernel, mode="valid")
    np.testing.assert_allclose(blur_image(image, kernel), direct, atol=1e-5)


def test_it_is_a_convolution_with_origin_at_the_centre_pixel():
    image = np.zeros((15, 15), np.float32)
    image[7, 7] = 1.0
    kernel = np.zeros((5, 5))
    kernel[2, 4] = 1.0  # mass 2 px right of the origin
    out = blur_image(image, kernel)
    assert out[7, 9] == pytest.approx(1.0)


def test_delta_kernel_is_identity_for_every_dtype():
    rng = np.random.default_rng(0)
    delta = np.zeros((9, 9))
    delta[4, 4] = 1.0
    for image in [
        rng.integers(0, 256, (10, 13, 3), dtype=np.uint8),
        rng.integers(0, 65536, (10, 13), dtype=np.uint16),
        rng.random((10, 13, 3), dtype=np.float32),
    ]:
        out = blur_image(image, delta)
        assert out.dtype == image.dtype and out.shape == image.shape
        np.testing.assert_allclose(out.astype(float), image.astype(float), atol=1e-5)


def test_constant_image_stays_constant_up_to_the_border():
    rng = np.random.default_rng(0)
    kernel = sample_kernels(1, rng).kernels[0, -1]
    for value in (0.25, 1.0):
        image = np.full((70, 90, 3), value, np.float32)
        np.testing.assert_allclose(blur_image(image, kernel), value, atol=1e-5)
        np.testing.assert_allclose(blur_image(image, kernel, linear_light=True), value, atol=1e-4)


def test_tiny_and_non_square_images_work():
    rng = np.random.default_rng(0)
    kernel = sample_kernels(1, rng).kernels[0, -1]
    assert blur_image(rng.random((3, 200)), kernel).shape == (3, 200)
    assert blur_image(rng.random((1, 1, 3)), kernel).shape == (1, 1, 3)


def test_linear_light_brightens_blurred_highlights():
    """Averaging light, then encoding, keeps more of a bright spot than averaging codes."""
    image = np.zeros((21, 21), np.float32)
    image[10, 8:13] = 1.0
    kernel = np.ones((1, 5)) / 5
    plain = blur_image(image, kernel)
    linear = blur_image(image, kernel, linear_light=True)
    assert linear[10, 6] > plain[10, 6] > 0


def test_noise_is_reproducible_per_seed_and_has_the_requested_strength():
    image = np.full((200, 200), 0.5, np.float32)
    delta = np.ones((1, 1))
    a = blur_image(image, delta, noise_std=0.05, rng=np.random.default_rng(1))
    b = blur_image(image, delta, noise_std=0.05, rng=np.random.default_rng(1))
    assert np.array_equal(a, b)
    assert a.std() == pytest.approx(0.05, rel=0.05)
    shot = blur_image(image, delta, poisson_peak=100.0, rng=np.random.default_rng(2))
    assert shot.var() == pytest.approx(0.5 / 100.0, rel=0.1)  # Poisson: var = mean / peak
    with pytest.raises(ValueError, match="rng"):
        blur_image(image, delta, noise_std=0.1)
