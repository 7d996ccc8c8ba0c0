import numpy as np
import pytest

from deblurgan.blur.kernels import sample_kernels
from deblurgan.blur.speed import vary_speed

from ..deconv.conftest import faint_mass


def test_the_path_is_kept_and_only_re_timed():
    rng = np.random.default_rng(0)
    t = np.linspace(0, 1, 500)
    paths = np.stack([30 * t * np.exp(1j * 0.3), 10 * np.sin(3 * t) + 5j * t])
    out = vary_speed(paths, rng, variation=1.0)
    np.testing.assert_allclose(out[:, 0], paths[:, 0], atol=1e-12)
    np.testing.assert_allclose(out[:, -1], paths[:, -1], atol=1e-12)
    # the straight line: every point still on it, travelled forwards only
    along = (out[0] * np.exp(-1j * 0.3)).real
    np.testing.assert_allclose((out[0] * np.exp(-1j * 0.3)).imag, 0, atol=1e-9)
    assert np.all(np.diff(along) >= 0)
    steps = np.diff(along)
    assert steps.max() / steps.min() > 5  # the speed does vary


def test_the_log_speed_has_the_requested_spread():
    t = np.linspace(0, 100, 4001)
    out = vary_speed(t[None].astype(complex), np.random.default_rng(1), variation=0.7)
    log_speed = np.log(np.diff(out[0].real))
    assert log_speed.std() == pytest.approx(0.7, rel=0.02)


def test_no_variation_changes_nothing():
    paths = np.exp(1j * np.linspace(0, 3, 50))[None] * 7
    np.testing.assert_array_equal(vary_speed(paths, np.random.default_rng(0), 0.0), paths)


def test_invalid_arguments_fail():
    with pytest.raises(ValueError, match="shape"):
        vary_speed(np.zeros(5, complex), np.random.default_rng(0))
    with pytest.raises(ValueError, match="variation"):
        vary_speed(np.zeros((1, 5), complex), np.random.default_rng(0), variation=-1)


def test_kernels_with_a_varying_speed_have_fainter_tails():
    """A hand that dwells and moves fast leaves faint parts in its kernel; the kernels
    still sum to 1, and the same seed gives the same kernels."""
    steady = sample_kernels(60, np.random.default_rng(3), max_length=25).kernels[:, -1]
    varied = sample_kernels(
        60, np.random.default_rng(3), max_length=25, speed_variation=1.0
    ).kernels[:, -1]
    again = sample_kernels(60, np.random.default_rng(3), max_length=25, speed_variation=1.0)
    np.testing.assert_array_equal(varied, again.kernels[:, -1])
    np.testing.assert_allclose(varied.sum(axis=(1, 2)), 1, atol=1e-5)
    assert np.all(varied >= 0)
    faint_steady = np.median([faint_mass(k) for k in steady])
    faint_varied = np.median([faint_mass(k) for k in varied])
    assert faint_varied > 2.5 * faint_steady
