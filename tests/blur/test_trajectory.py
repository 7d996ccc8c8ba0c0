import numpy as np
import pytest

from deblurgan.blur.trajectory import (
    PRESETS,
    draw_trajectory_randomness,
    sample_trajectories,
    trajectories_from_draws,
    trajectory_loop,
)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_vectorised_recurrence_equals_the_literal_loop(preset):
    draws = draw_trajectory_randomness(6, np.random.default_rng(4), preset, steps=500)
    paths = trajectories_from_draws(draws)
    for i in range(6):
        np.testing.assert_allclose(paths[i], trajectory_loop(draws, i), atol=1e-9)


def test_big_shakes_happen_and_match_the_loop():
    # impulsiveness x big-shake probability is small: search seeds for paths that shake
    draws = draw_trajectory_randomness(64, np.random.default_rng(0), "reference-code")
    shaking = draws.shake_test < (draws.big_shake * draws.impulsiveness)[:, None]
    shaken = np.flatnonzero(shaking.any(axis=1))
    assert shaken.size > 10
    paths = trajectories_from_draws(draws)
    i = int(shaken[0])
    np.testing.assert_allclose(paths[i], trajectory_loop(draws, i), atol=1e-9)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_every_path_starts_at_zero_and_is_exactly_max_length_long(preset):
    paths, _ = sample_trajectories(32, np.random.default_rng(1), preset, max_length=45.0)
    assert paths.shape == (32, 2000)
    assert np.all(paths[:, 0] == 0)
    np.testing.assert_allclose(np.abs(np.diff(paths, axis=1)).sum(axis=1), 45.0, rtol=1e-9)


def test_presets_differ_as_documented():
    """Reference-code paths curl much more than the paper's (end-to-end span vs length)."""
    span = {}
    for preset in PRESETS:
        paths, _ = sample_trajectories(200, np.random.default_rng(2), preset)
        span[preset] = np.median(np.abs(paths[:, -1] - paths[:, 0]))
    assert span["reference-code"] < 0.5 * span["paper"]
    assert span["paper"] < 60.0


def test_parameters_follow_their_distributions():
    draws = draw_trajectory_randomness(4000, np.random.default_rng(3), "reference-code", steps=2)
    assert 0 <= draws.inertia.min() and draws.inertia.max() <= 0.7
    assert draws.big_shake.max() <= 0.2 and draws.gaussian.max() <= 10.0
    assert set(np.unique(draws.impulsiveness)) == set(PRESETS["reference-code"].impulsiveness)
    assert abs(draws.angle.mean() - np.pi) < 0.1
    paper = draw_trajectory_randomness(100, np.random.default_rng(3), "paper", steps=2)
    assert set(np.unique(paper.impulsiveness)) == {0.001} and paper.gaussian.max() <= 0.7


def test_same_seed_same_paths_bit_for_bit():
    a, _ = sample_trajectories(5, np.random.default_rng(11))
    b, _ = sample_trajectories(5, np.random.default_rng(11))
    c, _ = sample_trajectories(5, np.random.default_rng(12))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown trajectory preset"):
        draw_trajectory_randomness(1, np.random.default_rng(0), "wild")
    with pytest.raises(ValueError, match="steps"):
        draw_trajectory_randomness(1, np.random.default_rng(0), steps=1)
