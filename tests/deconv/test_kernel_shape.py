"""Blur kernels as arrays: cleaning a raw estimate, centring, resampling."""

import numpy as np
import pytest

from deblurgan.deconv.kernel_shape import (
    centre_kernel,
    centre_kernel_subpixel,
    clean_kernel,
    resize_kernel,
)

from .conftest import line_kernel, similarity


def test_a_shifted_kernel_is_recentred():
    shifted = np.roll(line_kernel(15, 7, 2), (3, -4), axis=(0, 1))
    centred = centre_kernel(shifted)
    y, x = np.mgrid[0:15, 0:15]
    assert np.isclose(centred.sum(), 1.0)
    assert abs((y * centred).sum() - 7) <= 0.5 and abs((x * centred).sum() - 7) <= 0.5
    assert similarity(centred, shifted) > 0.999  # the same shape, moved


def test_clean_kernel_removes_negatives_floor_and_small_pieces():
    raw = np.zeros((9, 9), np.float32)
    raw[4, 2:7] = 1.0  # the kernel
    raw[0, 0] = 0.3  # a detached speck: 6% of the mass
    raw[8, 8] = -0.5
    raw[4, 7] = 0.01  # below 5% of the peak
    cleaned = clean_kernel(raw)
    assert np.isclose(cleaned.sum(), 1.0) and cleaned.min() >= 0
    assert cleaned[0, 0] == 0 and cleaned[8, 8] == 0 and cleaned[4, 7] == 0
    assert np.allclose(cleaned[4, 2:7], 0.2)


def test_clean_kernel_keeps_the_largest_piece_of_many_equal_specks():
    specks = np.zeros((15, 15), np.float32)
    specks[::3, ::3] = 1.0  # 25 detached pieces of about 4% of the mass: all under 10%
    specks[6, 6] = 1.2  # the largest
    cleaned = clean_kernel(specks)
    assert np.isfinite(cleaned).all() and np.isclose(cleaned.sum(), 1.0)
    assert cleaned.max() == 1.0  # the largest piece is kept alone, not none


def test_a_resampled_kernel_is_a_centred_blur_kernel_scaled_with_its_side():
    line = line_kernel(15, 9, 0)  # a horizontal path of 9 pixels
    for side in (29, 9):
        resized = resize_kernel(line, side)
        assert resized.shape == (side, side) and resized.min() >= 0
        assert np.isclose(resized.sum(), 1.0)
        rows, cols = np.mgrid[0:side, 0:side]
        assert abs((rows * resized).sum() - side // 2) <= 0.5
        assert abs((cols * resized).sum() - side // 2) <= 0.5
        lit = np.nonzero((resized > 0.05 * resized.max()).any(axis=0))[0]
        assert abs((lit.max() - lit.min() + 1) - 9 * side / 15) <= 2  # the path scales too


def test_sub_pixel_centring_puts_the_centre_of_mass_on_the_centre_pixel():
    kernel = np.zeros((9, 9), np.float32)
    kernel[4, 4:7] = [0.5, 0.3, 0.2]  # centre of mass 0.7 px right of the centre
    centred = centre_kernel_subpixel(kernel)
    rows, cols = np.mgrid[0:9, 0:9]
    assert np.isclose(centred.sum(), 1.0) and centred.min() >= 0
    assert (cols * centred).sum() == pytest.approx(4.0, abs=1e-4)
    assert (rows * centred).sum() == pytest.approx(4.0, abs=1e-4)
    assert np.array_equal(centre_kernel(kernel)[4, 3:6], kernel[4, 4:7])  # whole pixels: 1 px
