import numpy as np
import pytest
import scipy.signal

from deblurgan.blur.apply import blur_image
from deblurgan.deconv.fourier import gradients, periodic_extension
from deblurgan.deconv.kernel_estimation import (
    EstimationSettings,
    centre_kernel,
    clean_kernel,
    delta_kernel,
    estimate_kernel,
    kernel_step,
    pyramid_sizes,
)

from .conftest import line_kernel, shapes_scene


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Peak normalised cross-correlation over all shifts (1: the same kernel, anywhere)."""
    c = scipy.signal.correlate2d(a, b, mode="full")
    return float(c.max() / (np.linalg.norm(a) * np.linalg.norm(b)))


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


def test_blind_estimate_recovers_a_motion_kernel(scene, kernel):
    rng = np.random.default_rng(0)
    blurred = blur_image(scene[..., None], kernel, noise_std=0.003, rng=rng)[..., 0]
    estimate = estimate_kernel(blurred.astype(np.float32), 15)
    assert estimate.shape == (15, 15) and np.isclose(estimate.sum(), 1.0) and estimate.min() >= 0
    assert similarity(estimate, kernel) > 0.99  # the code reaches 0.999
    assert similarity(delta_kernel(15), kernel) < 0.5  # the bar is not met by doing nothing


def test_a_sharp_image_gives_a_nearly_single_pixel_kernel():
    sharp = shapes_scene(128, seed=4)
    estimate = estimate_kernel(sharp, 15)
    assert estimate.max() > 0.5  # most of the mass on one pixel


def test_estimation_is_deterministic(scene, kernel):
    blurred = blur_image(scene[..., None], kernel)[..., 0].astype(np.float32)
    assert np.array_equal(estimate_kernel(blurred, 11), estimate_kernel(blurred, 11))


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


def test_pyramid_goes_from_about_five_pixels_to_the_size():
    for size in (7, 15, 31, 101):
        sizes = pyramid_sizes(size)
        assert sizes[-1] == size and 3 <= sizes[0] <= 7
        assert all(s % 2 == 1 for s in sizes) and sizes == sorted(sizes)


def test_bad_kernel_sizes_are_refused(scene):
    with pytest.raises(ValueError, match="odd"):
        estimate_kernel(scene, 10)
    with pytest.raises(ValueError, match="larger than the image"):
        estimate_kernel(scene[:9, :9], 11)


def asymmetric_kernel(size: int = 15) -> np.ndarray:
    """An L-shaped path, heavier at one end: it differs from its own 180-degree flip."""
    k = np.zeros((size, size), np.float32)
    c = size // 2
    k[c, c - 4 : c + 3] = 1.0
    k[c - 4 : c, c + 2] = 0.5
    return k / k.sum()


def test_the_estimate_is_close_and_not_the_flip_of_an_asymmetric_kernel(scene):
    kernel = asymmetric_kernel()
    blurred = blur_image(scene[..., None], kernel, noise_std=0.002, rng=np.random.default_rng(0))
    estimate = estimate_kernel(blurred[..., 0].astype(np.float32), 15)
    flipped = kernel[::-1, ::-1]
    assert similarity(estimate, kernel) > 0.97
    assert similarity(estimate, kernel) > similarity(estimate, flipped) + 0.05


def test_the_l0_weight_falls_by_the_decay_every_round_down_to_the_floor(scene, monkeypatch):
    import deblurgan.deconv.kernel_estimation as estimation

    used = []
    real = estimation.l0_latent

    def spy(blurred, otf, weight, *args, **kwargs):
        used.append(weight)
        return real(blurred, otf, weight, *args, **kwargs)

    monkeypatch.setattr(estimation, "l0_latent", spy)
    blurred = blur_image(scene[..., None], line_kernel())[..., 0].astype(np.float32)
    settings = EstimationSettings(iterations=3, weight=2e-3, min_weight=1.7e-3)
    estimate_kernel(blurred, 7, settings)
    per_level = [used[i : i + 3] for i in range(0, len(used), 3)]
    for weights in per_level:  # restarted at every level, falling within it
        assert weights[0] == 2e-3 and weights[1] == pytest.approx(2e-3 / 1.1)
        assert weights[2] == pytest.approx(1.7e-3)  # 2e-3 / 1.21 is below the floor
    used.clear()
    carried = EstimationSettings(iterations=3, weight=2e-3, carry_weight=True, min_weight=1e-5)
    estimate_kernel(blurred, 7, carried)
    assert used == sorted(used, reverse=True) and used[-1] == pytest.approx(
        2e-3 / 1.1 ** (len(used) - 1)
    )
    used.clear()
    falling = EstimationSettings(iterations=2, weight=8e-3, finest_weight=1e-3, min_weight=1e-5)
    estimate_kernel(blurred, 15, falling)
    starts = used[::2]  # each level's first round
    sides = pyramid_sizes(15)
    assert len(starts) == len(sides) >= 3
    assert starts[0] == pytest.approx(8e-3) and starts[-1] == pytest.approx(1e-3)
    # geometric in the kernel's side: log weight is linear in log side
    fraction = np.log(sides[1] / sides[0]) / np.log(sides[-1] / sides[0])
    assert np.log(starts[1]) == pytest.approx(
        (1 - fraction) * np.log(8e-3) + fraction * np.log(1e-3)
    )
    assert used[1::2] == pytest.approx([w / 1.1 for w in starts])  # falling within each level
    with pytest.raises(ValueError, match="finest_weight"):
        EstimationSettings(finest_weight=1e-3, carry_weight=True)
    for bad in (0.0, float("nan"), 5e-5):  # none, not a number, under min_weight
        with pytest.raises(ValueError, match="finest_weight"):
            EstimationSettings(finest_weight=bad)
    used.clear()  # a pyramid of one level: the only level is the finest
    estimate_kernel(blurred, 5, falling)
    assert len(pyramid_sizes(5)) == 1 and used[0] == pytest.approx(1e-3)


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


def test_clean_kernel_keeps_the_largest_piece_of_many_equal_specks():
    specks = np.zeros((15, 15), np.float32)
    specks[::3, ::3] = 1.0  # 25 detached pieces of about 4% of the mass: all under 10%
    specks[6, 6] = 1.2  # the largest
    cleaned = clean_kernel(specks)
    assert np.isfinite(cleaned).all() and np.isclose(cleaned.sum(), 1.0)
    assert cleaned.max() == 1.0  # the largest piece is kept alone, not none
