import numpy as np

from deblurgan.blur.apply import blur_image
from deblurgan.deconv.blind import deconvolve_rgb
from deblurgan.deconv.tiles import deconvolve_tiles, grid_of, ramp, tile_grid
from deblurgan.metrics import psnr

from .conftest import line_kernel, shapes_scene


def test_tiles_cover_the_image_and_the_blend_weights_add_up():
    for tiles in (grid_of(150, 200, 3, 4, 24), tile_grid(150, 200, 64, 16)):
        covered = np.zeros((150, 200), int)
        for t in tiles:
            covered[t.y0 : t.y1, t.x0 : t.x1] += 1
        assert covered.min() >= 1
    assert ramp(10, 4, True, True).max() == 1.0 and ramp(10, 4, True, True)[0] > 0


def test_one_kernel_through_a_grid_of_tiles_matches_the_whole_image_without_seams():
    rgb = np.stack([shapes_scene(160, s) for s in (0, 1, 2)], axis=-1)
    kernel = line_kernel(9, 7, 2)
    blurred = blur_image(rgb, kernel).astype(np.float32)
    whole = deconvolve_rgb(blurred, kernel, 2000.0)
    tiles = grid_of(160, 160, 3, 3, 30)
    tiled = deconvolve_tiles(blurred, tiles, [kernel] * len(tiles), 2000.0, 30)
    assert psnr(tiled, whole) > 40.0
    seam = np.abs(np.diff(tiled, axis=1)).mean(axis=(0, 2))  # column-to-column change
    assert seam.max() < 4 * np.median(seam) + 0.05  # no column stands out


def test_each_tile_gets_its_own_kernel():
    image = np.repeat(shapes_scene(128)[..., None], 3, axis=2)
    left, right = line_kernel(9, 7, 0), line_kernel(9, 7, 0).T.copy()
    blurred = image.copy()
    blurred[:, :64] = blur_image(image, left)[:, :64]
    blurred[:, 64:] = blur_image(image, right)[:, 64:]
    tiles = grid_of(128, 128, 1, 2, 16)
    right_kernels = deconvolve_tiles(blurred, tiles, [left, right], 2000.0, 16)
    wrong_kernels = deconvolve_tiles(blurred, tiles, [right, left], 2000.0, 16)
    inner = (slice(10, -10), slice(10, -10))
    assert psnr(right_kernels[inner], image[inner]) > psnr(wrong_kernels[inner], image[inner]) + 3


def test_a_gray_image_is_deconvolved_once_with_the_prior_exponent_asked_for():
    gray = 0.3 + 0.4 * shapes_scene(96)
    kernel = line_kernel(9, 7, 2)
    blurred = np.repeat(blur_image(gray, kernel)[..., None], 3, axis=2).astype(np.float32)
    tiles = grid_of(96, 96, 2, 2, 24)

    def tiled(levels: np.ndarray, exponent: float) -> np.ndarray:
        return deconvolve_tiles(levels, tiles, [kernel] * 4, 200.0, 24, exponent=exponent)

    for exponent in (2.0, 2 / 3):
        out = tiled(blurred, exponent)
        assert np.array_equal(out[..., 0], out[..., 1]) and np.array_equal(out[..., 0], out[..., 2])
        single = tiled(np.ascontiguousarray(blurred[..., :1]), exponent)
        np.testing.assert_array_equal(out[..., :1], single)
    linear = (tiled(0.5 * blurred + 0.25, 2.0) - 0.25) / 0.5
    sparse = (tiled(0.5 * blurred + 0.25, 2 / 3) - 0.25) / 0.5
    assert np.abs(linear - tiled(blurred, 2.0)).max() < 1e-3
    assert np.abs(sparse - tiled(blurred, 2 / 3)).max() > 0.01


def varied_tiles() -> tuple[np.ndarray, list, list]:
    rgb = np.stack([shapes_scene(128, s) for s in (3, 4, 5)], axis=-1)
    rgb[40:60, 70:90] = 1.0  # a clipped highlight too
    tiles = grid_of(128, 128, 3, 3, 20)
    kernels = [line_kernel(9, 3 + n % 5, n % 4) for n in range(len(tiles))]
    blurred = np.clip(blur_image(rgb, kernels[4]), 0, 1).astype(np.float32)
    return blurred, tiles, kernels


def test_small_tiles_side_by_side_give_the_one_thread_result_and_report_in_order():
    import threading

    from deblurgan.deconv.threads import thread_budget

    blurred, tiles, kernels = varied_tiles()
    with thread_budget(1):
        one = deconvolve_tiles(blurred, tiles, kernels, 300.0, 20, suppress_ringing=True)
    heard = []

    def hear(stage: str, fraction: float) -> None:
        heard.append((fraction, threading.current_thread() is threading.main_thread()))

    with thread_budget(2):
        both = deconvolve_tiles(
            blurred, tiles, kernels, 300.0, 20, on_stage=hear, suppress_ringing=True
        )
    assert np.array_equal(both, one)
    fractions = [f for f, _ in heard]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(fractions) > 27
    assert all(main for _, main in heard)  # heard in the calling thread


def test_a_cancel_drops_the_small_tiles_not_begun(monkeypatch):
    import pytest

    from deblurgan.deconv import tiles as tiles_module
    from deblurgan.deconv.threads import thread_budget

    blurred, tiles, kernels = varied_tiles()
    calls = []
    plain = tiles_module.deconvolve

    def counted(*args, **kwargs):
        calls.append(1)
        return plain(*args, **kwargs)

    def cancel(stage: str, fraction: float) -> None:
        if fraction >= 0.1:
            raise InterruptedError("cancelled")

    monkeypatch.setattr(tiles_module, "deconvolve", counted)
    with thread_budget(2), pytest.raises(InterruptedError):
        deconvolve_tiles(blurred, tiles, kernels, 300.0, 20, on_stage=cancel)
    assert 3 <= len(calls) < 27  # the units not begun were dropped
