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
