import numpy as np
import pytest

from deblurgan.deconv.blur_verdict import MAX_SPREAD_PER_SIDE, blur_verdict, kernel_spread

from .conftest import line_kernel


def test_the_spread_counts_the_pixels_a_point_is_spread_over():
    assert kernel_spread(np.pad(np.ones((1, 1)), 3)) == 1.0
    assert kernel_spread(line_kernel(15, 7, 0)) == pytest.approx(7.0)  # 7 equal pixels
    assert kernel_spread(np.full((3, 3), 1 / 9)) == 9.0


def test_the_no_blur_threshold_is_pinned_on_both_sides():
    def spread_kernel(spread: float) -> np.ndarray:  # n equal pixels in a row: spread n
        k = np.zeros((15, 15), np.float32)
        whole = int(spread)
        k[7, :whole] = 1.0
        k[8, 0] = spread - whole  # a fraction of a pixel more
        k /= k.sum()
        return k

    just_under, just_over = spread_kernel(4.7), spread_kernel(5.3)  # literal: the decision
    assert kernel_spread(just_under) < 5.0 < kernel_spread(just_over)  # is at 5 px (training)
    assert blur_verdict(just_under).startswith("no blur found")
    assert blur_verdict(just_over) is None


def test_a_diffuse_cloud_is_a_failed_estimate_not_a_blur():
    cloud = np.full((15, 15), 1 / 225, np.float32)  # spread 225 > 5 x 15
    assert kernel_spread(cloud) > MAX_SPREAD_PER_SIDE * 15
    assert "diffuse" in blur_verdict(cloud)
    path = line_kernel(15, 13, 0)
    assert blur_verdict(path) is None
    # A shake longer than the side comes out as a thick, squashed path. Estimates spreading
    # up to 4.04 times the side deblurred long training shakes (benchmarks/large_shake.py):
    # a 5 px thick diagonal band spreads more than that and is kept.
    thick = sum(np.eye(31, k=offset, dtype=np.float32) for offset in range(-2, 3))
    thick /= thick.sum()
    assert 4.04 * 31 < kernel_spread(thick) < MAX_SPREAD_PER_SIDE * 31
    assert blur_verdict(thick) is None
