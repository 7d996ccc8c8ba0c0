import cv2
import numpy as np
import pytest

from deblurgan.blur.apply import blur_image
from deblurgan.deconv import kernel_choice
from deblurgan.deconv.kernel_choice import (
    best_by_spectrum,
    best_domain,
    gradient_power,
    normalised_sparsity,
    sparsest_result,
    spectral_misfit,
)
from deblurgan.deconv.kernel_shape import delta_kernel

from .conftest import line_kernel


def texture(size: int = 192, seed: int = 0) -> np.ndarray:
    """Sixty discs of random shades: edges of every direction in equal measure, as natural
    photos have on average (the criterion assumes so; a scene of rectangles would not)."""
    rng = np.random.default_rng(seed)
    image = np.full((size, size), 0.5, np.float32)
    for _ in range(60):
        centre = tuple(int(v) for v in rng.integers(0, size, 2))
        radius, shade = int(rng.integers(3, size // 6)), float(rng.uniform(0.1, 0.9))
        cv2.circle(image, centre, radius, shade, -1, lineType=cv2.LINE_AA)
    return image


def test_the_true_kernel_explains_the_blurred_spectrum_best():
    true = line_kernel(21, 15, 6)
    blurred = blur_image(texture(), true)
    blurred = blurred + np.random.default_rng(1).normal(0, 1 / 255, blurred.shape)
    power = gradient_power(blurred)
    wrong = {
        "no blur": delta_kernel(21),
        "turned 90 degrees": np.ascontiguousarray(true.T[::-1]),
        "half as long": line_kernel(21, 7, 3),
        "twice as long": line_kernel(21, 19, 12),
    }
    fit = spectral_misfit(power, true)
    for name, kernel in wrong.items():
        assert fit < spectral_misfit(power, kernel), name
    assert best_by_spectrum(blurred, [*wrong.values(), true]) == len(wrong)


def test_each_domain_is_judged_by_its_own_kernel_on_its_own_image():
    true, wrong = line_kernel(21, 15, 6), delta_kernel(21)
    blurred = blur_image(texture(), true)
    assert best_domain([blurred, blurred], [wrong, true]) == 1
    assert best_domain([blurred, blurred], [true, wrong]) == 0
    # the same kernel fits the image it blurred, not a sharp one
    assert best_domain([texture(), blurred], [true, true]) == 1
    with pytest.raises(ValueError):
        best_domain([blurred], [true, wrong])


def test_the_misfit_ignores_contrast_and_the_kernels_position():
    true = line_kernel(15, 11, 4)
    blurred = blur_image(texture(seed=2), true)
    power = gradient_power(blurred)
    assert spectral_misfit(power, true) == pytest.approx(spectral_misfit(9 * power, true))
    true = line_kernel(15, 7, 2)
    shifted = np.roll(true, (2, -3), axis=(0, 1))  # the same line elsewhere: the same power
    assert spectral_misfit(power, shifted) == pytest.approx(spectral_misfit(power, true))


def test_white_noise_has_flat_gradient_power_and_fits_no_blur():
    noise = np.random.default_rng(3).random((256, 256))
    power = gradient_power(noise)
    radius = np.hypot(*np.meshgrid(np.fft.fftfreq(64), np.fft.fftfreq(64), indexing="ij"))
    ring = (radius > 0.2) & (radius < 0.3)
    assert power[ring].std() / power[ring].mean() < 0.5  # one ring: about equal power
    assert best_by_spectrum(noise, [line_kernel(9, 7, 0), delta_kernel(9)]) == 1


def test_small_images_and_large_kernels_get_a_fitting_patch():
    true = line_kernel(9, 7, 2)
    small = blur_image(texture(48, seed=4), true)
    assert best_by_spectrum(small, [delta_kernel(9), true]) == 1
    with pytest.raises(ValueError, match="smaller than one"):
        gradient_power(small, 64)
    assert gradient_power(texture(160), 96).shape == (96, 96)


def test_the_true_kernel_deconvolves_to_the_sparsest_image():
    true = line_kernel(21, 15, 6)
    blurred = blur_image(texture(seed=4), true)
    blurred = blurred + np.random.default_rng(5).normal(0, 1 / 255, blurred.shape)
    wrong = {
        "no blur": delta_kernel(21),
        "turned 90 degrees": np.ascontiguousarray(true.T[::-1]),
        "half as long": line_kernel(21, 7, 3),
        "twice as long": line_kernel(21, 19, 12),
    }
    fit = normalised_sparsity(blurred, true, 3000.0)
    for name, kernel in wrong.items():
        assert fit < normalised_sparsity(blurred, kernel, 3000.0), name
    assert sparsest_result(blurred, [*wrong.values(), true], 3000.0) == len(wrong)


def test_the_sparsity_is_the_l1_over_the_l2_norm_of_the_gradients_inside():
    # a delta kernel leaves a noise-free image as it is (up to the solver): one vertical
    # step edge has gradients in one column, L1 / L2 = sqrt(rows counted)
    step = np.zeros((64, 64), np.float32)
    step[:, 32:] = 0.8
    value = normalised_sparsity(step + 0.1, delta_kernel(5), 3000.0)
    assert value == pytest.approx(np.sqrt(64 - 2 * 5), rel=0.02)
    assert normalised_sparsity(step + 0.1, delta_kernel(5), 3000.0, margin=12) == pytest.approx(
        np.sqrt(64 - 2 * 12), rel=0.02
    )
    assert normalised_sparsity(np.full((32, 32), 0.5), delta_kernel(3), 3000.0) == np.inf
    with pytest.raises(ValueError, match="no pixels 16 px from its border"):
        normalised_sparsity(np.zeros((32, 32)), delta_kernel(3), 3000.0, margin=16)


def test_candidates_of_different_sides_are_measured_on_the_same_pixels(monkeypatch):
    # the same blur on a larger support is the same candidate and must score the same:
    # measured each on its own interior, the larger would look 20% sparser (fewer pixels)
    true = line_kernel(15, 11, 4)
    padded = np.pad(true, 8)
    blurred = blur_image(texture(seed=6), true)
    own = [normalised_sparsity(blurred, k, 3000.0) for k in (true, padded)]
    assert own[1] < 0.9 * own[0]
    margins = []
    measure = kernel_choice.normalised_sparsity

    def spy(gray, kernel, weight, exponent, margin):
        margins.append(margin)
        return measure(gray, kernel, weight, exponent, margin)

    monkeypatch.setattr(kernel_choice, "normalised_sparsity", spy)
    sparsest_result(blurred, [true, padded], 3000.0)
    assert margins == [31, 31]
    common = [measure(blurred, k, 3000.0, margin=31) for k in (true, padded)]
    assert common[0] == pytest.approx(common[1], rel=0.005)


def test_the_sparsity_deconvolves_with_the_given_prior(monkeypatch):
    seen = []

    def spy(gray, kernel, weight, alpha):
        seen.append((weight, alpha))
        return gray

    monkeypatch.setattr(kernel_choice, "deconvolve", spy)
    sparsest_result(texture(64), [delta_kernel(5), delta_kernel(7)], 1234.0, 0.8)
    assert seen == [(1234.0, 0.8)] * 2
