import cv2
import numpy as np
import pytest
import scipy.ndimage

from deblurgan.blur.apply import blur_image
from deblurgan.deconv.blind import BlindDeconvolution, BlindSettings
from deblurgan.deconv.kernel_shape import centre_kernel
from deblurgan.deconv.registration import centre_of_mass_offset, register_to_centroid
from deblurgan.metrics import psnr


def off_centre_kernel() -> np.ndarray:
    """A 7 px kernel whose centre of mass is 0.4 px below and 0.1 px left of its centre."""
    kernel = np.zeros((7, 7), np.float32)
    kernel[3, 3], kernel[3, 2], kernel[4, 3] = 0.5, 0.1, 0.4
    return kernel


def test_the_centre_of_mass_offset_is_measured_from_the_centre_pixel():
    assert centre_of_mass_offset(off_centre_kernel()) == pytest.approx((0.4, -0.1))
    symmetric = cv2.getGaussianKernel(9, 2.0) @ cv2.getGaussianKernel(9, 2.0).T
    assert centre_of_mass_offset(symmetric) == pytest.approx((0.0, 0.0), abs=1e-12)
    with pytest.raises(ValueError, match="positive sum"):
        centre_of_mass_offset(np.zeros((3, 3)))


def test_a_centred_kernel_leaves_the_image_where_it_is():
    image = np.random.default_rng(0).random((20, 30, 3)).astype(np.float32)
    delta = np.zeros((5, 5), np.float32)
    delta[2, 2] = 1
    assert np.array_equal(register_to_centroid(image, delta), image)
    nearly = np.zeros((5, 5), np.float32)
    nearly[2, 2], nearly[2, 3] = 0.99, 0.01  # 0.01 px: under what a warp can resolve
    assert np.array_equal(register_to_centroid(image.astype(np.float64), nearly), image)
    assert register_to_centroid(image.astype(np.float64), nearly).dtype == np.float32


def test_any_layout_of_channels_is_shifted_alike():
    rng = np.random.default_rng(2)
    image = rng.random((16, 18, 3)).astype(np.float32)
    kernel = off_centre_kernel()
    three = register_to_centroid(image, kernel)
    one = register_to_centroid(image[..., :1], kernel)
    flat = register_to_centroid(image[..., 1], kernel)
    strided = register_to_centroid(np.asfortranarray(image[:, ::-1])[:, ::-1], kernel)
    five = register_to_centroid(np.concatenate([image, image[..., :2]], axis=-1), kernel)
    assert one.shape == (16, 18, 1) and flat.shape == (16, 18) and five.shape == (16, 18, 5)
    np.testing.assert_array_equal(one[..., 0], three[..., 0])
    np.testing.assert_array_equal(flat, three[..., 1])
    np.testing.assert_array_equal(strided, three)
    np.testing.assert_array_equal(five[..., 3:], three[..., :2])


def test_whole_pixel_centring_rounds_as_the_float32_kernel_says():
    # Symmetric about a half pixel: the float32 sum puts the centre of mass 0.50000007 px
    # right of the centre pixel, so the kernel moves one column left (as it always has).
    kernel = np.zeros((5, 5), np.float32)
    column = np.float32([0.1891215, 0.18981169, 0.12106682])
    kernel[1:4, 2], kernel[1:4, 3] = column, column
    assert centre_of_mass_offset(kernel)[1] > 0.5
    centred = centre_kernel(kernel)
    np.testing.assert_array_equal(centred[1:4, 1:3], kernel[1:4, 2:4] / kernel.sum())


def test_a_whole_pixel_offset_moves_the_image_by_whole_pixels():
    image = np.random.default_rng(1).random((24, 24)).astype(np.float32)
    kernel = np.zeros((5, 5), np.float32)
    kernel[3, 1] = 1  # one row down, one column left
    moved = register_to_centroid(image, kernel)
    np.testing.assert_allclose(moved[1:, :-1], image[:-1, 1:], atol=1e-5)


def test_the_deblurred_image_sits_where_the_blur_is_centred():
    # A smooth image blurred by a kernel whose centre of mass is off its centre pixel: the
    # image that kernel "centred on its mass" blurs is the sharp one moved by the offset.
    # Registered, the deconvolution lands there; unregistered, where the centre pixel says.
    rng = np.random.default_rng(0)
    sharp = scipy.ndimage.gaussian_filter(rng.random((96, 96, 3)), (1.5, 1.5, 0))
    sharp = ((sharp - sharp.min()) / np.ptp(sharp) * 0.8 + 0.1).astype(np.float32)
    kernel = off_centre_kernel()
    blurred = blur_image(sharp, kernel).astype(np.float32)
    moved = np.stack(
        [np.fft.ifft2(scipy.ndimage.fourier_shift(np.fft.fft2(c), (0.4, -0.1))).real
         for c in np.moveaxis(sharp, -1, 0)], -1,
    )  # fmt: skip
    inside = (slice(12, -12), slice(12, -12))
    on, off = (
        BlindDeconvolution(settings=BlindSettings(register_to_centroid=flag)).deconvolve(
            blurred, kernel
        )[inside]
        for flag in (True, False)
    )
    assert psnr(on, moved[inside]) > psnr(off, moved[inside]) + 3.0
    assert psnr(off, sharp[inside]) > psnr(on, sharp[inside]) + 3.0
    default = BlindDeconvolution().deconvolve(blurred, kernel)[inside]
    assert np.array_equal(default, on)
