"""Blind kernel estimation coarse to fine (the kernel step: test_kernel_step.py; cleaning,
centring and resampling kernels: test_kernel_shape.py)."""

import cv2
import numpy as np
import pytest

from deblurgan.blur.apply import blur_image
from deblurgan.deconv.kernel_estimation import EstimationSettings, estimate_kernel, pyramid_sizes
from deblurgan.deconv.kernel_shape import delta_kernel

from .conftest import faint_mass, line_kernel, shapes_scene, similarity


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


def dwell_then_fast_kernel(size: int = 21) -> np.ndarray:
    """A hand that dwelt (a bright 3 px segment), then moved fast (a faint 11 px line at
    6% of the peak): about a fifth of the mass in values under a tenth of the peak, as in
    measured camera shake."""
    k = np.zeros((size, size), np.float32)
    c = size // 2
    k[c, c - 7 : c - 4] = 1.0
    cv2.line(k, (c - 4, c), (c + 7, c - 5), 0.06, 1)
    return k / k.sum()


def test_a_low_floor_keeps_the_faint_tail_of_a_fast_move():
    kernel = dwell_then_fast_kernel()
    assert faint_mass(kernel) == pytest.approx(0.19, abs=0.01)
    scene = shapes_scene(160, seed=2)
    blurred = blur_image(scene[..., None], kernel, noise_std=0.002, rng=np.random.default_rng(0))
    blurred = blurred[..., 0].astype(np.float32)
    kept = estimate_kernel(blurred, 21, EstimationSettings(floor=0.01))
    dropped = estimate_kernel(blurred, 21, EstimationSettings(floor=0.05))
    assert faint_mass(kept) > 0.12 and faint_mass(dropped) < 0.02
    assert similarity(kept, kernel) > similarity(dropped, kernel) + 0.003
    for bad in (-0.1, 1.0, float("nan")):
        with pytest.raises(ValueError, match="floor"):
            EstimationSettings(floor=bad)
    with pytest.raises(ValueError, match="min_piece"):
        EstimationSettings(min_piece=1.5)
