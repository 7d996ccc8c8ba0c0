import numpy as np
import pytest

from deblurgan.blur.apply import blur_image
from deblurgan.deconv.nonblind import (
    data_weight,
    deconvolve,
    estimate_noise,
    shrink,
)
from deblurgan.metrics import psnr

from .conftest import line_kernel, shapes_scene


def test_noise_estimate_recovers_the_added_noise():
    rng = np.random.default_rng(0)
    clean = shapes_scene(192)
    for sigma in (0.005, 0.02):
        noisy = clean + sigma * rng.standard_normal(clean.shape).astype(np.float32)
        assert abs(estimate_noise(noisy) - sigma) < 0.25 * sigma


def test_noise_estimate_is_immerkaers_formula_on_any_view_of_one_channel():
    rng = np.random.default_rng(1)
    rgb = shapes_scene(64)[..., None] + 0.01 * rng.standard_normal((64, 64, 3)).astype(np.float32)
    gray = rgb[:, :, 1]  # a strided view
    # the formula by hand on the interior: the mask's response, the Sobel gradients' magnitude
    g = gray.astype(np.float64)

    def shifted(dy: int, dx: int) -> np.ndarray:
        return g[1 + dy : 63 + dy, 1 + dx : 63 + dx]

    mask = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]])
    response = sum(w * shifted(i - 1, j - 1) for (i, j), w in np.ndenumerate(mask))
    rows = sum(w * (shifted(1, d) - shifted(-1, d)) for d, w in ((-1, 1), (0, 2), (1, 1)))
    cols = sum(w * (shifted(d, 1) - shifted(d, -1)) for d, w in ((-1, 1), (0, 2), (1, 1)))
    edges = np.hypot(rows, cols)
    calm = edges <= np.percentile(edges, 90)
    by_hand = np.sqrt(np.pi / 2) * np.abs(response[calm]).mean() / 6
    assert estimate_noise(gray) == pytest.approx(by_hand, rel=1e-5)
    assert estimate_noise(gray.T) == pytest.approx(estimate_noise(gray), rel=1e-5)
    with pytest.raises(ValueError, match="one"):
        estimate_noise(rgb)


def test_data_weight_is_krishnan_and_fergus_at_one_percent_noise_and_bounded():
    assert data_weight(0.01) == 2000.0
    assert data_weight(1e-6) == 3000.0 and data_weight(1.0) == 200.0


def test_shrink_minimises_the_half_quadratic_subproblem():
    beta, alpha = 8.0, 2.0 / 3.0
    v = np.linspace(-1.5, 1.5, 301)
    w = shrink(v, beta)
    candidates = np.linspace(-2, 2, 40001)
    energy = np.abs(candidates[None]) ** alpha + beta / 2 * (candidates[None] - v[:, None]) ** 2

    def cost(w):
        return np.abs(w) ** alpha + beta / 2 * (w - v) ** 2

    excess = cost(w) - energy.min(axis=1)
    assert np.all(excess < 1e-2) and np.median(excess) < 1e-5  # up to the table spacing
    assert np.all(w[np.abs(v) < 0.1] == 0)  # small gradients are set to zero (sparsity)


def test_deconvolution_with_the_true_kernel_restores_detail(scene, kernel):
    rng = np.random.default_rng(1)
    blurred = blur_image(scene[..., None], kernel, noise_std=0.005, rng=rng)[..., 0]
    restored = deconvolve(blurred.astype(np.float32), kernel)
    assert psnr(restored, scene) > psnr(blurred, scene) + 5.0


def test_clipped_highlights_do_not_ring():
    scene = shapes_scene(128, seed=3) * 0.8
    scene[50:70, 50:70] = 3.0  # a highlight far brighter than white
    kernel = line_kernel(15, 11, 2)
    blurred = np.clip(blur_image(scene[..., None], kernel)[..., 0], 0, 1).astype(np.float32)
    truth = np.clip(scene, 0, 1)
    masked = deconvolve(blurred, kernel, weight=2000)
    unmasked = deconvolve(blurred, kernel, weight=2000, mask_clipped=False)
    around = np.zeros(truth.shape, bool)
    around[35:85, 35:85] = True
    around[50:70, 50:70] = False  # the highlight itself is unknowable; judge its surroundings
    assert psnr(masked[around], truth[around]) > psnr(unmasked[around], truth[around]) + 2.0


def test_the_clipped_mask_covers_where_the_blur_carries_the_highlight():
    from deblurgan.deconv.nonblind import _reliable_pixels

    kernel = np.zeros((5, 5), np.float32)
    kernel[2, 2:] = 1 / 3  # blur carries each pixel 0, 1 and 2 px to the right
    image = np.zeros((9, 12), np.float32)
    image[4, 4] = 1.0
    blurred = blur_image(image[..., None], kernel)[..., 0]
    assert set(np.flatnonzero(blurred[4] > 1e-3)) == {4, 5, 6}
    assert set(np.flatnonzero(~_reliable_pixels(image, kernel)[4])) == {4, 5, 6}


def test_deconvolution_on_every_thread_is_the_one_thread_result_to_the_bit():
    from deblurgan.deconv.threads import thread_budget

    scene = np.kron(shapes_scene(128, seed=4), np.ones((4, 4), np.float32))  # 512 px: banded
    scene[200:230, 300:340] = 2.0  # a clipped highlight: the masked data term too
    kernel = line_kernel(15, 11, 2)
    blurred = np.clip(blur_image(scene[..., None], kernel)[..., 0], 0, 1).astype(np.float32)
    with thread_budget(1):
        one = deconvolve(blurred, kernel, weight=2000)
    with thread_budget(2):
        assert np.array_equal(deconvolve(blurred, kernel, weight=2000), one)
