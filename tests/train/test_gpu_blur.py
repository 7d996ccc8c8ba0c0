import pytest
import torch
import torch.nn.functional as F

from deblurgan.train.gpu_blur import (
    fft_blur,
    kernel_blur_pairs,
    random_kernels,
    scene_blur_pairs,
    to_display,
    to_linear,
)


def rng(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_kernels_are_centred_normalised_and_reproducible():
    k = random_kernels(16, 21, rng())
    assert k.shape == (16, 21, 21) and k.min() >= 0
    assert torch.allclose(k.sum((1, 2)), torch.ones(16), atol=1e-5)
    grid = torch.arange(21.0)
    cy = (k.sum(2) * grid).sum(1)
    cx = (k.sum(1) * grid).sum(1)
    # Centred by the mean of the path's points; clamping at the canvas may move it a little.
    assert (cy - 10).abs().max() < 1.5 and (cx - 10).abs().max() < 1.5
    assert torch.equal(k, random_kernels(16, 21, rng()))
    assert not torch.equal(k, random_kernels(16, 21, rng(1)))
    # Not all deltas: paths have length.
    assert (k.amax((1, 2)) < 0.9).sum() >= 12


def test_fft_blur_is_the_convolution_inside_the_margin():
    images = torch.rand(2, 3, 24, 28, generator=rng())
    kernels = random_kernels(2, 7, rng(2))
    delta = torch.zeros(2, 7, 7)
    delta[:, 3, 3] = 1
    assert torch.allclose(fft_blur(images, delta), images, atol=1e-5)
    blurred = fft_blur(images, kernels)
    for i in range(2):
        # conv2d correlates, so the kernel is flipped to convolve.
        ref = F.conv2d(images[i : i + 1].transpose(0, 1), kernels[i].flip(0, 1)[None, None])
        assert torch.allclose(blurred[i, :, 3:-3, 3:-3], ref.transpose(0, 1)[0], atol=1e-5)
    with pytest.raises(ValueError, match="larger than the images"):
        fft_blur(images, torch.ones(2, 25, 25))


def test_kernel_pairs_cut_the_margin_and_still_samples_stay_sharp():
    sharp = torch.rand(4, 3, 30, 30, generator=rng())
    blurred, target = kernel_blur_pairs(sharp, 9, rng(), noise=0.0, still=1.0)
    assert blurred.shape == target.shape == (4, 3, 22, 22)
    # FFT rounding (~1e-7 in linear light) grows near black under the 1 / 2.2 power.
    assert torch.allclose(blurred, target, atol=2e-3)
    assert (blurred - target).abs().mean() < 1e-4
    assert torch.equal(target, sharp[..., 4:-4, 4:-4])
    blurred, _ = kernel_blur_pairs(sharp, 9, rng(), noise=0.0, still=0.0)
    assert (blurred - target).abs().mean() > 0.02 and blurred.min() >= 0 and blurred.max() <= 1


def test_gamma_round_trip():
    x = torch.rand(100, generator=rng())
    assert torch.allclose(to_display(to_linear(x)), x.clamp_min(1e-4), atol=1e-4)


def test_scene_pairs_average_moving_frames_around_the_middle_one():
    sharp = torch.rand(3, 3, 40, 40, generator=rng())
    other = torch.rand(3, 3, 40, 40, generator=rng(1))
    blurred, target = scene_blur_pairs(sharp, other, rng(), frames=1, margin=4, noise=0.0)
    assert blurred.shape == (3, 3, 32, 32) and torch.equal(blurred, target)
    blurred, target = scene_blur_pairs(sharp, other, rng(), frames=7, margin=4, noise=0.0)
    assert (blurred - target).abs().mean() > 0.01
    # Averaging frames smooths: fewer fine differences than in the sharp middle frame.
    assert blurred.diff(dim=-1).abs().mean() < target.diff(dim=-1).abs().mean()
    with pytest.raises(ValueError, match="odd"):
        scene_blur_pairs(sharp, other, rng(), frames=4)
