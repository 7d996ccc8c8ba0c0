import numpy as np

from deblurgan.deconv.fourier import divergence, gradients
from deblurgan.deconv.nonblind import SHRINK_REACH, _shrinkage_table, shrink
from deblurgan.deconv.stencils import shrunk_divergence, thresholded_divergence


def test_thresholded_divergence_matches_the_numpy_composition():
    u = np.random.default_rng(0).random((37, 53)).astype(np.float32)
    gx, gy = gradients(u)
    small = gx * gx + gy * gy < 0.1
    gx[small], gy[small] = 0.0, 0.0
    assert 0.2 < small.mean() < 0.8  # both branches are exercised
    assert np.allclose(thresholded_divergence(u, 0.1), divergence(gx, gy), atol=1e-6)


def test_shrunk_divergence_matches_the_numpy_composition():
    u = 3.0 * np.random.default_rng(1).random((41, 29)).astype(np.float32)  # some beyond reach
    gx, gy = gradients(u)
    beta = 22.6
    reference = divergence(shrink(gx, beta), shrink(gy, beta))
    fused = shrunk_divergence(u, _shrinkage_table(beta), SHRINK_REACH)
    assert np.abs(gx).max() > SHRINK_REACH
    assert np.allclose(fused, reference, atol=1e-5)


def test_bands_of_rows_on_every_thread_give_the_one_pass_result_to_the_bit():
    from deblurgan.deconv.threads import PARALLEL_PIXELS, thread_budget

    u = np.random.default_rng(2).random((640, 480)).astype(np.float32)
    assert u.size >= PARALLEL_PIXELS  # cut into bands when the budget allows
    table = _shrinkage_table(22.6)
    with thread_budget(1):
        one = thresholded_divergence(u, 0.05), shrunk_divergence(u, table, SHRINK_REACH)
    for count in (2, 3):
        with thread_budget(count):
            banded = thresholded_divergence(u, 0.05), shrunk_divergence(u, table, SHRINK_REACH)
        assert all(np.array_equal(a, b) for a, b in zip(one, banded))
    gx, gy = gradients(u)  # and the bands' seams are right (rows wrap around too)
    reference = divergence(shrink(gx, 22.6), shrink(gy, 22.6))
    assert np.allclose(banded[1], reference, atol=1e-5)
