import numpy as np
import pytest

from deblurgan.blur.kernels import sample_kernels
from deblurgan.blur.psf import render_psfs, tight_crop


@pytest.fixture(scope="module")
def batch():
    return sample_kernels(40, np.random.default_rng(0))


def test_kernels_are_non_negative_and_sum_to_one(batch):
    assert batch.kernels.shape == (40, 3, 64, 64) and batch.kernels.dtype == np.float32
    assert batch.kernels.min() >= 0
    np.testing.assert_allclose(batch.kernels.sum(axis=(2, 3)), 1.0, atol=1e-5)


def test_centre_of_mass_is_the_centre_pixel(batch):
    ys, xs = np.mgrid[:64, :64]
    np.testing.assert_allclose((batch.kernels * xs).sum(axis=(2, 3)), 32.0, atol=1e-3)
    np.testing.assert_allclose((batch.kernels * ys).sum(axis=(2, 3)), 32.0, atol=1e-3)


def test_mass_stays_inside_the_canvas_border(batch):
    assert batch.kernels[..., 0, :].max() == 0 and batch.kernels[..., :, 0].max() == 0


def test_longer_exposures_spread_wider(batch):
    spread = [(k > 0).sum(axis=(1, 2)).mean() for k in batch.kernels.transpose(1, 0, 2, 3)]
    assert spread == sorted(spread)


def test_splat_equals_a_per_point_bilinear_loop():
    rng = np.random.default_rng(5)
    path = np.cumsum(rng.normal(size=300) + 1j * rng.normal(size=300)) * 0.2
    psf = render_psfs(path[None], exposures=(0.5, 1.0), size=48)[0]
    for j, count in enumerate((150, 300)):
        part = path[:count] - path[:count].mean() + 24 + 24j
        expected = np.zeros((48, 48))
        for p in part:
            x0, y0 = int(np.floor(p.real)), int(np.floor(p.imag))
            fx, fy = p.real - x0, p.imag - y0
            expected[y0, x0] += (1 - fx) * (1 - fy)
            expected[y0, x0 + 1] += fx * (1 - fy)
            expected[y0 + 1, x0] += (1 - fx) * fy
            expected[y0 + 1, x0 + 1] += fx * fy
        np.testing.assert_allclose(psf[j], expected / count, atol=1e-6)


def test_a_single_point_is_a_delta():
    psf = render_psfs(np.array([[3 + 4j]]), exposures=(1.0,), size=9)[0, 0]
    assert psf[4, 4] == pytest.approx(1.0) and psf.sum() == pytest.approx(1.0)


def test_too_small_canvas_is_refused_with_the_size_needed():
    line = np.linspace(0, 40, 200)[None].astype(complex)
    with pytest.raises(ValueError, match="use size >= 44"):
        render_psfs(line, size=32)


def test_tight_crop_keeps_the_centre_and_the_mass(batch):
    kernel = batch.kernels[3, 1]
    tight = tight_crop(kernel)
    assert tight.shape[0] % 2 == 1 and tight.shape[0] <= 64
    assert tight.sum() == pytest.approx(1.0, abs=1e-5)
    r = tight.shape[0] // 2
    ys, xs = np.mgrid[-r : r + 1, -r : r + 1]
    assert abs((tight * xs).sum()) < 1e-3 and abs((tight * ys).sum()) < 1e-3


def test_sampling_is_deterministic_per_seed():
    a = sample_kernels(3, np.random.default_rng(9))
    b = sample_kernels(3, np.random.default_rng(9))
    assert np.array_equal(a.kernels, b.kernels)
    assert a.record(1) == b.record(1) and set(a.record(1)) >= {"inertia", "impulsiveness"}
