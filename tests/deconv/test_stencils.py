import numpy as np

from deblurgan.deconv.fourier import divergence, gradient_energy, gradients, rfft2
from deblurgan.deconv.nonblind import SHRINK_REACH, _shrinkage_table, shrink
from deblurgan.deconv.stencils import (
    shrunk_divergence,
    splitting_solve,
    thresholded_divergence,
)


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


def test_splitting_solve_is_the_closed_form_to_the_bit_in_bands_of_rows():
    from deblurgan.deconv.threads import PARALLEL_PIXELS, thread_budget

    rng = np.random.default_rng(3)
    shape = (600, 900)  # its spectrum has more than PARALLEL_PIXELS values: cut into bands
    assert shape[0] * (shape[1] // 2 + 1) >= PARALLEL_PIXELS
    numerator, prior = (rfft2(rng.random(shape).astype(np.float32)) for _ in range(2))
    denominator = np.abs(rfft2(rng.random(shape).astype(np.float32))) ** 2
    smooth, beta = gradient_energy(shape), 5.66
    expected = (numerator + np.float32(beta) * prior) / (denominator + np.float32(beta) * smooth)
    for count in (1, 2, 3):
        with thread_budget(count):
            out = prior.copy()
            assert splitting_solve(numerator, out, beta, denominator, smooth) is out
            assert np.array_equal(out, expected)


def test_splitting_solve_keeps_the_precision_of_double_operands():
    rng = np.random.default_rng(4)
    shape = (40, 50)
    numerator = np.fft.rfft2(rng.random(shape))  # complex128
    prior = np.fft.rfft2(rng.random(shape)).astype(np.complex64)
    denominator = np.abs(np.fft.rfft2(rng.random(shape))) ** 2
    smooth = gradient_energy(shape)
    out = splitting_solve(numerator, prior.copy(), 3.0, denominator, smooth)
    expected = (numerator + np.float32(3.0) * prior) / (denominator + np.float32(3.0) * smooth)
    assert out.dtype == np.complex128 and np.array_equal(out, expected)


def test_splitting_solve_divides_by_zero_as_numpy_does():
    numerator = np.array([[1 + 2j, -1 + 0j, 0j]], np.complex64)
    prior = np.array([[0.5 - 1j, 0j, 0j]], np.complex64)
    zero = np.zeros((1, 3), np.float32)  # D + beta S = 0: a kernel whose values sum to 0
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = (numerator + np.float32(2.0) * prior) / (zero + np.float32(2.0) * zero)
    out = splitting_solve(numerator, prior.copy(), 2.0, zero, zero)  # no exception
    assert np.array_equal(out, expected, equal_nan=True)
    assert np.isinf(out[0, 0].real) and np.isnan(out[0, 2].real)
