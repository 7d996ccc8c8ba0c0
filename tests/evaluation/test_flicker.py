"""The flicker measure: the output's frame-to-frame change over the input's."""

import math

import numpy as np
import pytest

from deblurgan.evaluation.flicker import flicker_peak, flicker_ratio, frame_changes


def clip(frames: int = 5, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((frames, 12, 16, 3)).astype(np.float32)


def test_frame_changes_are_mean_absolute_differences_of_neighbours():
    frames = np.zeros((3, 4, 4, 3))
    frames[1, 0, 0, 0] = 0.48  # one value of 48 changes by 0.48, then back
    np.testing.assert_allclose(frame_changes(frames), [0.01, 0.01])
    assert frame_changes(list(frames)).shape == (2,)


def test_the_output_equal_to_the_input_adds_no_flicker():
    assert flicker_ratio(clip(), clip()) == 1.0


def test_a_still_clip_is_one_when_the_output_stays_still_and_infinite_when_it_moves():
    still = np.repeat(clip(1), 4, axis=0)
    assert flicker_ratio(still * 0.5, still) == 1.0
    moving = still.copy()
    moving[2] += 0.01
    assert flicker_ratio(moving, still) == math.inf


def test_frames_that_jump_raise_the_ratio_and_a_steady_change_does_not():
    source = clip(1) * 0.5 + 0.01 * np.arange(5, dtype=np.float32)[:, None, None, None]
    assert flicker_ratio(source * 1.2, source) == pytest.approx(1.2)  # more contrast
    jumpy = source.copy()
    jumpy[::2] += 0.04  # every other frame brighter: changes of 0.03 and 0.05, not 0.01
    assert flicker_ratio(jumpy, source) == pytest.approx(4.0)


def test_changes_into_a_new_shot_are_left_out_when_the_cuts_are_given():
    source = clip(1) * 0.5 + 0.01 * np.arange(6, dtype=np.float32)[:, None, None, None]
    source[3:] += 0.3  # a cut before frame 3
    output = source * 2.0
    output[3:] = source[3:] * 3.0  # the second shot is sharpened more: its own flicker 3
    # Changes of 0.01 in the input; 0.02, 0.02 then 0.03, 0.03 in the output.
    assert flicker_ratio(output, source, cuts=[3]) == pytest.approx(2.5)
    assert flicker_ratio(output, source) > flicker_ratio(output, source, cuts=[3])


def test_the_peak_is_the_largest_single_jump_and_skips_cuts():
    source = clip(1) * 0.5 + 0.01 * np.arange(5, dtype=np.float32)[:, None, None, None]
    output = source.copy()
    output[3] += 0.05  # frame 3 treated differently: changes of 0.06 into and out of it
    assert flicker_peak(output, source) == pytest.approx(6.0)
    assert flicker_peak(output, source, cuts=[3, 4]) == pytest.approx(1.0)
    assert flicker_ratio(output, source) == pytest.approx((1 + 1 + 6 + 4) / 4)


def test_clips_that_do_not_match_are_refused():
    with pytest.raises(ValueError, match="differ"):
        flicker_ratio(clip(5), clip(4))
    with pytest.raises(ValueError, match="differ"):
        flicker_ratio(clip(5)[:, :6], clip(5))
    with pytest.raises(ValueError, match="two frames"):
        flicker_ratio(clip(1), clip(1))
    with pytest.raises(ValueError, match="differ"):
        flicker_peak(clip(5), clip(4))
    with pytest.raises(ValueError, match="shapes"):
        frame_changes([np.zeros((2, 2)), np.zeros((3, 2))])
