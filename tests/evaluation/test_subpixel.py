"""Levin et al.'s sub-pixel alignment: a known shift is recovered, and it scores higher
than whole-pixel alignment."""

import numpy as np
import pytest

from deblurgan.evaluation.scoring import score
from deblurgan.evaluation.subpixel import (
    bilinear_window,
    shift_grid,
    shifted_ssd,
    subpixel_aligned_psnr,
)


def _scene(height, width, ty=0.0, tx=0.0):
    """A smooth RGB pattern sampled at ``(y - ty, x - tx)``: a shift known exactly."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    y, x = y - ty, x - tx
    value = (
        0.5
        + 0.2 * np.sin(0.31 * x + 0.17 * y)
        + 0.15 * np.cos(0.23 * y - 0.41 * x + 1.0)
        + 0.1 * np.sin(0.6 * y) * np.cos(0.5 * x)
    )
    return np.stack([value, 0.9 * value, 1.0 - value], axis=2).clip(0, 1)


@pytest.mark.parametrize("true_shift", [(1.25, -0.5), (-0.75, 2.25), (0.0, 0.0)])
def test_a_known_subpixel_shift_is_recovered_and_beats_whole_pixel_alignment(true_shift):
    sharp = _scene(64, 72)
    pred = _scene(64, 72, *true_shift)  # pred at (y + dy, x + dx) is sharp at (y, x)
    found = subpixel_aligned_psnr(pred, sharp)
    assert found.shift == true_shift
    whole = score(pred, sharp, border=15, align=5)  # the same crop, whole pixels only
    if true_shift == (0.0, 0.0):
        assert found.psnr == whole["psnr"] == float("inf")
    else:
        assert found.psnr > 40 and found.psnr > whole["psnr"] + 10
        assert found.ssim > whole["ssim"]


def test_score_and_tuple_unpacking_give_the_same_numbers():
    sharp, pred = _scene(60, 60), _scene(60, 60, 0.5, 0.25)
    psnr, ssim, (dy, dx) = subpixel_aligned_psnr(pred, sharp)
    scored = score(pred, sharp, subpixel=True)
    assert scored == {"psnr": psnr, "ssim": ssim, "shift_y": dy, "shift_x": dx}
    assert (dy, dx) == (0.5, 0.25)
    luma = score(pred, sharp, y_channel=True, subpixel=True)
    assert (luma["shift_y"], luma["shift_x"]) == (0.5, 0.25) and luma["psnr"] > 40


def test_the_fast_sum_of_squares_equals_resampling_at_every_shift():
    rng = np.random.default_rng(1)
    pred, target = rng.random((50, 45, 3)), rng.random((20, 15, 3))
    shifts = shift_grid()
    assert len(shifts) == 41 and shifts[0] == -5 and shifts[-1] == 5
    brute = np.array(
        [
            [np.sum((bilinear_window(pred, 15 + a, 15 + b, 20, 15) - target) ** 2) for b in shifts]
            for a in shifts
        ]
    )
    np.testing.assert_allclose(shifted_ssd(pred, target, 15, shifts), brute, rtol=0, atol=1e-9)


def test_bilinear_window_interpolates_linearly():
    ramp = np.add.outer(10 * np.arange(6.0), np.arange(7.0))  # value 10 y + x
    window = bilinear_window(ramp, 1.75, 2.5, 3, 2)
    np.testing.assert_allclose(window, 10 * (1.75 + np.arange(3))[:, None] + 2.5 + np.arange(2))
    with pytest.raises(ValueError, match="leaves the image"):
        bilinear_window(ramp, 4.5, 0, 2, 2)


def test_bad_settings_are_refused_with_the_reason():
    image = _scene(60, 60)
    with pytest.raises(ValueError, match="too small for shifts"):
        subpixel_aligned_psnr(image, image, max_shift=5, crop=5)
    with pytest.raises(ValueError, match="differ in shape"):
        subpixel_aligned_psnr(image, image[:-1])
    with pytest.raises(ValueError, match="whole number of steps"):
        subpixel_aligned_psnr(image, image, max_shift=1, step=0.3)
    with pytest.raises(ValueError, match="too small for a 15 px crop"):
        subpixel_aligned_psnr(image[:35], image[:35])
    with pytest.raises(ValueError, match="not both"):
        score(image, image, align=3, subpixel=True)
    with pytest.raises(ValueError, match="must be 0 or more, got -3"):
        score(image, image, align=-3)  # was "max() arg is an empty sequence"
