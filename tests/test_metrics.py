import numpy as np
import pytest
from PIL import Image
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from deblurgan.metrics import psnr, ssim


def _skimage(a, b):
    kwargs = dict(gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255)
    channel = {"channel_axis": -1} if a.ndim == 3 else {}
    return peak_signal_noise_ratio(a, b, data_range=255), structural_similarity(
        a, b, **kwargs, **channel
    )


@pytest.mark.parametrize("shape", [(32, 45, 3), (17, 11), (64, 64, 3)])
def test_agrees_with_scikit_image_on_random_images(shape):
    rng = np.random.default_rng(sum(shape))
    a = rng.integers(0, 256, shape, dtype=np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-40, 41, shape), 0, 255).astype(np.uint8)
    expected_psnr, expected_ssim = _skimage(a, b)
    assert psnr(a, b) == pytest.approx(expected_psnr, abs=1e-4)
    assert ssim(a, b) == pytest.approx(expected_ssim, abs=1e-4)


def test_agrees_with_scikit_image_on_a_real_pair(shared):
    folder = shared / "data" / "gopro_crops256"
    blurred = np.asarray(Image.open(folder / "val_epoch213_in.png").convert("RGB"))
    sharp = np.asarray(Image.open(folder / "val_epoch213_gt.png").convert("RGB"))
    expected_psnr, expected_ssim = _skimage(blurred, sharp)
    assert psnr(blurred, sharp) == pytest.approx(expected_psnr, abs=1e-4)
    assert ssim(blurred, sharp) == pytest.approx(expected_ssim, abs=1e-4)


def test_float_images_are_scored_on_the_8_bit_grid():
    a = np.full((16, 16, 3), 0.5, np.float32)
    assert psnr(a, a + 0.0001) == float("inf")  # rounds to the same 8-bit values
    assert ssim(a, a) == pytest.approx(1.0)


def test_known_psnr():
    a = np.zeros((10, 10), np.uint8)
    b = a.copy()
    b[:5] = 10  # MSE = 50
    assert psnr(a, b) == pytest.approx(10 * np.log10(255**2 / 50))


def test_shape_mismatch_and_tiny_images():
    with pytest.raises(ValueError, match="shape"):
        psnr(np.zeros((4, 4)), np.zeros((4, 5)))
    with pytest.raises(ValueError, match="11x11"):
        ssim(np.zeros((8, 8)), np.zeros((8, 8)))
