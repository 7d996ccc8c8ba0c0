import cv2
import numpy as np
import pytest

from deblurgan.deconv.blur_verdict import kernel_spread
from deblurgan.deconv.motion_fit import InplaneMotion
from deblurgan.deconv.nonuniform import (
    MAX_DATA_WEIGHT,
    deconvolve_varying,
    kernel_at,
    kernel_mosaic,
    tile_kernels,
    varying_grid,
    varying_side,
)
from deblurgan.deconv.tiles import deconvolve_tiles


def _sweep(length: int, roll: float = 0.0) -> InplaneMotion:
    """A horizontal sweep over ``length`` whole pixels (x from -r to r), rolling from
    ``-roll`` to ``roll`` radians along the way, equal weights."""
    r = length // 2
    xs = np.arange(-r, r + 1, dtype=np.float64)
    rolls = np.linspace(-roll, roll, xs.size)
    poses = np.stack([xs, np.zeros_like(xs), rolls], 1)
    return InplaneMotion(poses, np.full(xs.size, 1.0 / xs.size), 0.0, 0.0)


def _extent(kernel: np.ndarray) -> tuple[int, int]:
    """Rows and columns that hold more than 1% of the peak."""
    rows, cols = np.nonzero(kernel > 0.01 * kernel.max())
    return int(np.ptp(rows)) + 1, int(np.ptp(cols)) + 1


def test_a_kernel_fitted_at_a_smaller_scale_is_enlarged_to_full_resolution():
    # 7 px at half resolution is about 14 px at full resolution (up to 17 with the
    # bilinear enlargement's and the sub-pixel centring's spread), whatever the side it was
    # fitted with (an earlier version resized the fitted side onto the cropped side and
    # shrank every tile's kernel to a near delta).
    motion = _sweep(7)
    kernel = kernel_at(motion, (50.0, 80.0), (100, 160), 0.5, 21, 31)
    height, width = _extent(kernel)
    assert 13 <= width <= 17 and height <= 5
    assert kernel.sum() == pytest.approx(1.0, abs=1e-5)
    y, x = np.mgrid[0:31, 0:31]
    assert float((x * kernel).sum()) == pytest.approx(15.0, abs=0.05)  # centred, sub-pixel
    assert float((y * kernel).sum()) == pytest.approx(15.0, abs=0.05)


def test_the_side_covers_the_largest_kernel_and_no_more():
    still = varying_side(_sweep(7), (100, 160), 1.0, 21)
    rolled = varying_side(_sweep(7, roll=0.08), (100, 160), 1.0, 21)
    assert 7 <= still <= 13  # the sweep plus crop_to_support's margin
    assert rolled > still  # the corners move further than the centre
    kernels = tile_kernels(
        _sweep(7, 0.08), varying_grid(100, 160, rolled)[0], (100, 160), 1.0, 21, rolled
    )
    assert {k.shape for k in kernels} == {(rolled, rolled)}
    assert max(kernel_spread(k) for k in kernels) > 1.5 * min(kernel_spread(k) for k in kernels)


def test_a_motion_without_roll_deconvolves_like_its_one_kernel():
    rng = np.random.default_rng(0)
    image = rng.random((96, 128, 1)).astype(np.float32)
    motion = _sweep(5)
    sharp, kernels, tiles = deconvolve_varying(image, motion, 1.0, 11, weight=200.0)
    reference = deconvolve_tiles(image, tiles, [kernels[0]] * len(tiles), 200.0, 32)
    assert all(np.allclose(k, kernels[0], atol=1e-6) for k in kernels)
    assert np.abs(sharp - reference).max() < 0.02
    assert _extent(kernels[0]) == (1, 5)


def test_the_data_weight_is_capped_for_kernels_that_vary():
    rng = np.random.default_rng(1)
    image = rng.random((64, 64, 1)).astype(np.float32)
    capped, _, _ = deconvolve_varying(image, _sweep(3), 1.0, 7, weight=5000.0)
    at_cap, _, _ = deconvolve_varying(image, _sweep(3), 1.0, 7, weight=MAX_DATA_WEIGHT)
    assert np.array_equal(capped, at_cap)


def test_the_mosaic_lays_the_kernels_out_as_the_tiles_are():
    tiles, _ = varying_grid(100, 160, 5)
    kernels = [np.full((5, 5), 1 / 25, np.float32) for _ in tiles]
    kernels[0] = np.pad(np.ones((1, 1), np.float32), 2)
    mosaic = kernel_mosaic(kernels, tiles)
    rows, cols = len({t.y0 for t in tiles}), len({t.x0 for t in tiles})
    assert mosaic.shape == (rows * 6 - 1, cols * 6 - 1)
    assert mosaic.sum() == pytest.approx(1.0, abs=1e-5)
    assert mosaic[2, 2] > 0 and mosaic[0, 0] == 0  # the first tile's delta, top left


def test_ringing_suppression_reaches_the_tiles():
    rng = np.random.default_rng(2)
    image = rng.random((64, 64, 1)).astype(np.float32)
    plain, _, _ = deconvolve_varying(image, _sweep(5), 1.0, 11, weight=200.0)
    dering, _, _ = deconvolve_varying(
        image, _sweep(5), 1.0, 11, weight=200.0, suppress_ringing=True
    )
    assert np.abs(plain - dering).mean() > 1e-3


def test_the_prior_exponent_reaches_the_tiles():
    # exponent 2: a quadratic prior, a linear filter (levels scaled in, scaled out)
    smooth = cv2.GaussianBlur(np.random.default_rng(3).random((64, 64)), (0, 0), 2.0)
    image = (0.3 + 0.4 * (smooth - smooth.min()) / np.ptp(smooth))[..., None].astype(np.float32)

    def varying(levels: np.ndarray, exponent: float) -> np.ndarray:
        return deconvolve_varying(levels, _sweep(5), 1.0, 11, weight=200.0, exponent=exponent)[0]

    def error(exponent: float) -> float:
        scaled = (varying(0.5 * image + 0.25, exponent) - 0.25) / 0.5
        return float(np.abs(scaled - varying(image, exponent)).max())

    assert error(2.0) < 1e-3 < 0.01 < error(2 / 3)


def test_windows_refined_together_equal_each_window_refined_alone():
    from deblurgan.blur.apply import blur_image
    from deblurgan.deconv.kernel_estimation import refine_kernel
    from deblurgan.deconv.nonuniform import LOCAL_SETTINGS, local_kernels, window_corners

    from .conftest import line_kernel, shapes_scene

    gray = blur_image(shapes_scene(150, 0), line_kernel(9, 7, 2)).astype(np.float32)
    start = line_kernel(9, 5, 0)
    local = local_kernels(gray, start)
    heard = []
    side = 6 * 9  # six kernel sides: the windows' side on a 150 px image
    for kernel, (y0, x0) in zip(local.kernels, window_corners(150, 150, side)):
        window = gray[y0 : y0 + side, x0 : x0 + side]
        alone, _ = refine_kernel(window, start, LOCAL_SETTINGS.weight, LOCAL_SETTINGS)
        assert np.array_equal(kernel, alone)
        # the window's contrast: its root-mean-square gradient (central differences)
        gy, gx = np.gradient(gray.astype(np.float64))
        squared = (gx**2 + gy**2)[y0 : y0 + side, x0 : x0 + side]
        assert local.contrast[len(heard)] == pytest.approx(np.sqrt(squared.mean()))
        heard.append(None)
    flat = np.full((150, 150), 0.5, np.float32)
    flat[:, 75:] = gray[:, 75:]  # the left windows hold no edges: no contrast
    assert np.all(local_kernels(flat, start).contrast[[0, 3, 6]] == 0)
    heard = []

    def cancel(stage, fraction):
        heard.append(fraction)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        local_kernels(gray, start, progress=cancel)
    assert heard == [pytest.approx(1 / 9)]
