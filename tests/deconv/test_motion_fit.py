import numpy as np

from deblurgan.blur.rotation import local_kernel, random_rotation_shake
from deblurgan.deconv.motion_fit import fit_inplane_motion, motion_kernel

SHAPE = (240, 320)


def kernels_of(shake, size=21):
    ys, xs = np.meshgrid([40, 120, 200], [50, 160, 270], indexing="ij")
    points = np.stack([ys.ravel(), xs.ravel()], 1).astype(float)
    kernels = [local_kernel(shake, SHAPE, tuple(p), size) for p in points]
    return kernels, points - np.array([(SHAPE[0] - 1) / 2, (SHAPE[1] - 1) / 2])


def test_the_fit_recovers_a_known_roll_and_finds_none_where_there_is_none():
    rolled = random_rotation_shake(np.random.default_rng(3), SHAPE, 8, 12, focal_factor=3.0)
    still = random_rotation_shake(np.random.default_rng(3), SHAPE, 8, 0, focal_factor=3.0)
    fit_rolled = fit_inplane_motion(*kernels_of(rolled))
    fit_still = fit_inplane_motion(*kernels_of(still))
    true_roll = float(np.std(rolled.roll))
    assert 0.5 * true_roll < fit_rolled.roll_spread < 2.0 * true_roll
    assert fit_still.roll_spread < 0.5 * true_roll
    # a rolling camera explains rolled kernels far better than one kernel can; not so without
    assert fit_rolled.uniform_residual > 3 * fit_rolled.residual
    assert fit_still.uniform_residual < 1.5 * fit_still.residual
    assert np.isclose(fit_rolled.weights.sum(), 1.0) and fit_rolled.weights.min() >= 0


def test_the_fitted_motion_renders_the_kernels_it_was_fitted_to():
    shake = random_rotation_shake(np.random.default_rng(4), SHAPE, 8, 12, focal_factor=3.0)
    kernels, points = kernels_of(shake)
    motion = fit_inplane_motion(kernels, points)
    for kernel, point in zip(kernels, points):
        rendered = motion_kernel(motion, tuple(point), kernel.shape[0])
        assert np.isclose(rendered.sum(), 1.0)
        cosine = (rendered * kernel).sum() / np.linalg.norm(rendered) / np.linalg.norm(kernel)
        assert cosine > 0.75
