"""The decision of ``--method auto`` on given evidence (the evidence itself: test_auto.py)."""

import dataclasses

import numpy as np
import pytest

from deblurgan.blur.rotation import random_rotation_shake
from deblurgan.methods.decision import (
    NETWORK,
    UNIFORM,
    VARYING,
    Evidence,
    Thresholds,
    decide,
    kernel_agreement,
    spread_variation,
)

from ..deconv.conftest import line_kernel

CALM = Evidence(12.0, 21, 0, 9, 0.9, 0.5, 0.20, 0.22, 0.1)
T = Thresholds()


def test_the_decision_flips_exactly_at_each_threshold():
    ratio = dataclasses.replace
    at_uniform = ratio(CALM, spread_variation=T.max_spread_variation)
    assert decide(at_uniform).outcome == UNIFORM
    assert decide(ratio(at_uniform, spread_variation=T.max_spread_variation + 1e-6)).outcome == (
        NETWORK
    )
    varying = ratio(
        CALM,
        residual=T.max_varying_residual,
        uniform_residual=T.max_varying_residual * T.min_varying_ratio,
        spread_variation=0.5,  # a rolling camera blurs the corners more than the centre
    )
    assert decide(varying).outcome == VARYING
    # a rolling camera is recognised before the spread is looked at
    assert decide(ratio(varying, spread_variation=0.1)).outcome == VARYING
    assert decide(
        ratio(varying, residual=T.max_varying_residual + 1e-6, uniform_residual=1)
    ).outcome == (NETWORK)
    just_under = ratio(
        varying, uniform_residual=T.max_varying_residual * T.min_varying_ratio * 0.999
    )
    assert decide(just_under).outcome == NETWORK
    assert decide(ratio(just_under, spread_variation=0.1)).outcome == UNIFORM
    assert decide(ratio(CALM, sharp_windows=T.sharp_windows)).outcome == NETWORK
    assert decide(ratio(CALM, sharp_windows=T.sharp_windows - 1)).outcome == UNIFORM


def test_the_decision_says_what_it_saw_in_plain_words():
    assert "kernel 21 px" in decide(CALM).words
    assert (
        "varies across the frame"
        in decide(dataclasses.replace(CALM, residual=0.05, uniform_residual=0.5)).words
    )
    assert "moving objects" in decide(dataclasses.replace(CALM, sharp_windows=5)).words
    differs = decide(dataclasses.replace(CALM, spread_variation=0.354))
    assert differs.outcome == NETWORK and "blur varies by 35%" in differs.words
    assert "method l0" in differs.words  # where one kernel may still be right, it says so
    assert "l0" not in decide(dataclasses.replace(CALM, sharp_windows=5)).words


def test_spread_variation_is_the_relative_spread_of_the_blur_extents():
    assert spread_variation([line_kernel(15, 9, 0), line_kernel(15, 9, 2)]) == pytest.approx(0)
    # spreads 3 and 9 (3 and 9 equal pixels): std 3 over mean 6
    pair = [line_kernel(15, 3, 0), line_kernel(15, 9, 0)]
    assert spread_variation(pair) == pytest.approx(0.5, rel=1e-5)
    # the same whatever the blur's size: only how much it differs across the photo counts
    tripled = [line_kernel(31, 9, 0), line_kernel(31, 27, 0)]
    assert spread_variation(tripled) == pytest.approx(spread_variation(pair), rel=1e-5)
    with pytest.raises(ValueError, match="finite"):
        spread_variation([])
    with pytest.raises(ValueError, match="finite"):
        spread_variation([np.zeros((5, 5))])


def test_spread_variation_counts_each_kernel_by_its_weight():
    pair = [line_kernel(15, 3, 0), line_kernel(15, 9, 0)]
    assert spread_variation(pair, np.array([2.0, 2.0])) == pytest.approx(spread_variation(pair))
    # spreads 3 and 9 weighted 1:3: mean 7.5, variance (4.5^2 + 3 * 1.5^2) / 4 = 6.75
    assert spread_variation(pair, np.array([1.0, 3.0])) == pytest.approx(
        np.sqrt(6.75) / 7.5, rel=1e-5
    )
    # a window without weight (no edges) does not count at all
    three = [*pair, line_kernel(15, 9, 2)]
    assert spread_variation(three, np.array([0.0, 1.0, 1.0])) == pytest.approx(0.0)
    for bad in ([1.0, -1.0], [0.0, 0.0], [1.0, 1.0, 1.0]):
        with pytest.raises(ValueError, match="weight"):
            spread_variation(pair, np.array(bad))


def test_kernel_agreement_ignores_shifts_but_not_shapes():
    k = line_kernel(15, 9, 0)
    assert kernel_agreement(k, np.roll(k, (2, -3), axis=(0, 1))) == pytest.approx(1.0)
    assert kernel_agreement(k, k.T.copy()) < 0.5


def test_clean_evidence_of_a_rolled_camera_is_shake_that_varies():
    # The decision given the TRUE local kernels of a rolled camera (the blind ones are far
    # noisier: docs/blind_deconvolution.md), and of the same shake without the roll.
    from deblurgan.blur.rotation import local_kernel
    from deblurgan.deconv.motion_fit import fit_inplane_motion

    shape = (240, 320)
    ys, xs = np.meshgrid([40, 120, 200], [50, 160, 270], indexing="ij")
    points = np.stack([ys.ravel(), xs.ravel()], 1).astype(float)
    centred = points - np.array([(shape[0] - 1) / 2, (shape[1] - 1) / 2])
    outcomes = []
    for roll in (12, 0):
        shake = random_rotation_shake(np.random.default_rng(3), shape, 8, roll, focal_factor=3.0)
        kernels = [local_kernel(shake, shape, tuple(p), 21) for p in points]
        motion = fit_inplane_motion(kernels, centred)
        evidence = dataclasses.replace(
            CALM, residual=motion.residual, uniform_residual=motion.uniform_residual
        )
        outcomes.append(decide(evidence).outcome)
    assert outcomes == [VARYING, UNIFORM]
