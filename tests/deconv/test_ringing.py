import cv2
import numpy as np
import pytest

from deblurgan.deconv.kernel_shape import resize_kernel
from deblurgan.deconv.nonblind import deconvolve
from deblurgan.deconv.ringing import deringed_deconvolution, l0_deconvolve, suppress_ringing

from .conftest import line_kernel, shapes_scene

INNER = (slice(16, -16), slice(16, -16))  # away from the image borders


def blur(sharp: np.ndarray, kernel: np.ndarray, noise: float = 0.005, seed: int = 0) -> np.ndarray:
    flipped = np.ascontiguousarray(kernel[::-1, ::-1])
    blurred = cv2.filter2D(sharp, -1, flipped, borderType=cv2.BORDER_REFLECT)
    blurred = blurred + np.random.default_rng(seed).normal(0, noise, blurred.shape)
    return np.clip(blurred, 0, 1).astype(np.float32)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(1 / np.mean((a[INNER] - b[INNER]) ** 2)))


def step_edge() -> np.ndarray:
    image = np.full((64, 96), 0.2, np.float32)
    image[:, 48:] = 0.8
    return image


def beside_the_edge(image: np.ndarray, sharp: np.ndarray) -> float:
    """RMS error on the flat sides of the step within a kernel's reach, the edge itself
    (3 px either side) left out: the ripples."""
    band = np.zeros(sharp.shape, bool)
    band[16:-16, 34:45] = band[16:-16, 51:62] = True
    return float(np.sqrt(np.mean((image - sharp)[band] ** 2)))


def test_l0_deconvolution_recovers_a_piecewise_constant_scene():
    sharp, kernel = shapes_scene(96), line_kernel()
    blurred = blur(sharp, kernel)
    smooth = l0_deconvolve(blurred, kernel)
    assert smooth.shape == sharp.shape and smooth.dtype == np.float32
    assert psnr(smooth, sharp) > psnr(blurred, sharp) + 3


def test_a_perturbed_kernel_ripples_less_beside_a_step_edge():
    sharp, kernel = step_edge(), line_kernel(15, 9, 4)
    blurred = blur(sharp, kernel)
    for wrong in (resize_kernel(kernel, 19), resize_kernel(kernel, 11)):  # 1.3 and 0.8 times
        latent = deconvolve(blurred, wrong, 3000.0)
        ripples = beside_the_edge(latent, sharp)
        deringed = deringed_deconvolution(blurred, wrong, latent)  # half the difference
        assert beside_the_edge(deringed, sharp) < 0.85 * ripples
        assert psnr(deringed, sharp) > psnr(latent, sharp)
        whole = deringed_deconvolution(blurred, wrong, latent, strength=1.0)
        assert beside_the_edge(whole, sharp) < 0.7 * ripples


def test_with_the_true_kernel_it_costs_little():
    sharp, kernel = shapes_scene(96), line_kernel()
    blurred = blur(sharp, kernel)
    latent = deconvolve(blurred, kernel, 3000.0)
    deringed = deringed_deconvolution(blurred, kernel, latent)
    assert psnr(deringed, sharp) > psnr(latent, sharp) - 1.5
    assert psnr(deringed, sharp) > psnr(blurred, sharp) + 8


@pytest.mark.parametrize("strength", [0.0, 0.5])
def test_nothing_changes_without_strength_or_difference(strength):
    latent = np.random.default_rng(1).random((20, 30)).astype(np.float32)
    smooth = latent if strength else latent * 0.5
    assert np.array_equal(suppress_ringing(latent, smooth, strength), latent)


def test_the_filtered_difference_is_removed_in_proportion():
    latent = np.full((20, 20), 0.6, np.float32)
    smooth = np.full((20, 20), 0.5, np.float32)  # a flat difference passes the filter whole
    np.testing.assert_allclose(suppress_ringing(latent, smooth, 0.5), 0.55, atol=1e-6)
    np.testing.assert_allclose(suppress_ringing(latent, smooth, 1.0), 0.5, atol=1e-6)


def test_clipped_highlights_are_no_evidence_for_the_l0_image():
    sharp, kernel = step_edge(), line_kernel(15, 9, 4)
    sharp[:, 48:] = 1.4  # a highlight brighter than the sensor
    blurred = np.minimum(blur(sharp, kernel), 1.0)
    latent = deconvolve(blurred, kernel, 3000.0)
    masked = deringed_deconvolution(blurred, kernel, latent, strength=1.0)
    unmasked = deringed_deconvolution(blurred, kernel, latent, strength=1.0, clip_level=None)
    seen = np.minimum(sharp, 1.0)

    def error(image: np.ndarray) -> float:  # RMS within a kernel's reach of the highlight
        return float(np.sqrt(np.mean((image - seen)[16:-16, 30:66] ** 2)))

    assert error(masked) < 0.8 * min(error(unmasked), error(latent))


@pytest.mark.parametrize(
    ("latent", "smooth", "strength"),
    [(np.zeros((4, 4)), np.zeros((4, 5)), 0.5), (np.zeros((4, 4)), np.zeros((4, 4)), 1.5)],
)
def test_bad_input_is_refused(latent, smooth, strength):
    with pytest.raises(ValueError):
        suppress_ringing(latent, smooth, strength)
    with pytest.raises(ValueError, match="one"):
        l0_deconvolve(np.zeros((8, 8, 3)), line_kernel(5, 3, 0))
    with pytest.raises(ValueError, match="beta_max"):  # no iteration would run
        l0_deconvolve(np.zeros((8, 8)), line_kernel(5, 3, 0), weight=1e-3, beta_max=2e-3)
