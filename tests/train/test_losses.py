import math

import numpy as np
import pytest
import torch

from deblurgan.io.images import read_image
from deblurgan.nets import Critic, init_weights
from deblurgan.train.losses import (
    content_loss,
    critic_loss,
    generator_adversarial_loss,
    gradient_penalty,
    sample_scores,
)


def test_gradient_penalty_gradcheck_on_a_tiny_critic():
    critic = init_weights(
        Critic(ndf=2, n_layers=1), generator=torch.Generator().manual_seed(0)
    ).double()
    rng = torch.Generator().manual_seed(2)  # inputs independent of earlier tests' draws
    real = torch.rand(2, 3, 8, 8, dtype=torch.float64, generator=rng)
    fake = torch.rand(2, 3, 8, 8, dtype=torch.float64, generator=rng)
    params = dict(critic.named_parameters())

    def penalty(weight):
        def with_weight(x):
            return torch.func.functional_call(critic, {**params, "layers.0.weight": weight}, (x,))

        return gradient_penalty(with_weight, real, fake, torch.Generator().manual_seed(1))

    weight = params["layers.0.weight"].detach().clone().requires_grad_()
    assert torch.autograd.gradcheck(penalty, (weight,))


def test_norm_is_over_all_of_c_h_w():
    """D(x) = sum(x) / sqrt(CHW) has gradient norm exactly 1 over the whole sample: no penalty.

    Taken per pixel over channels only (the authors' code), the norm would be
    sqrt(C / CHW) instead, and the penalty far from zero.
    """
    c, h, w = 3, 6, 5

    def critic(x):
        return x.flatten(1).sum(1) / math.sqrt(c * h * w)

    real, fake = torch.rand(4, c, h, w), torch.rand(4, c, h, w)
    assert gradient_penalty(critic, real, fake).item() == pytest.approx(0.0, abs=1e-10)

    def steep(x):
        return 3 * critic(x)

    assert gradient_penalty(steep, real, fake).item() == pytest.approx(4.0)  # (3 - 1)^2


def test_interpolation_coefficient_is_drawn_per_sample():
    seen = []

    def critic(x):
        seen.append(x.detach())
        return x.flatten(1).sum(1)

    real, fake = torch.ones(64, 1, 2, 2), torch.zeros(64, 1, 2, 2)
    gradient_penalty(critic, real, fake, torch.Generator().manual_seed(0))
    alphas = seen[0][:, 0, 0, 0]
    assert alphas.unique().numel() == 64 and 0 <= alphas.min() and alphas.max() <= 1


def test_wgan_critic_loss_parts_and_sign():
    def critic(x):
        return x.flatten(1).mean(1, keepdim=True)

    real, fake = torch.full((2, 3, 4, 4), 0.5), torch.full((2, 3, 4, 4), -0.5)
    losses = critic_loss("wgan-gp", critic, real, fake, gp_weight=10.0)
    assert losses["wasserstein"].item() == pytest.approx(1.0)
    assert losses["loss"].item() == pytest.approx(-1.0 + 10.0 * losses["gp"].item())
    assert generator_adversarial_loss("wgan-gp", critic, fake).item() == pytest.approx(0.5)


def test_lsgan_losses():
    def critic(x):
        return x.flatten(1).mean(1)

    ones, zeros = torch.ones(2, 3, 4, 4), torch.zeros(2, 3, 4, 4)
    assert critic_loss("lsgan", critic, ones, zeros)["loss"].item() == 0.0
    assert generator_adversarial_loss("lsgan", critic, zeros).item() == 1.0
    with pytest.raises(ValueError, match="unknown gan"):
        critic_loss("vanilla", critic, ones, zeros)


def test_content_losses():
    a, b = torch.zeros(1, 3, 8, 8), torch.full((1, 3, 8, 8), 0.5)
    assert content_loss("l1", a, b).item() == 0.5
    assert content_loss("mse", a, b).item() == 0.25
    assert content_loss("perceptual", a, b, features=lambda x: 2 * x).item() == 1.0
    with pytest.raises(ValueError, match="needs the VGG"):
        content_loss("perceptual", a, b)


def _linear_patch_critic(weight: torch.Tensor, patches: int):
    """Every one of ``patches x patches`` scores is ``<weight, x[:, :, ::s, ::s]>``, reading a
    fixed 16x16 grid of pixels: a linear per-sample score with gradient norm ``||weight||``
    at any image size and any patch count."""

    def critic(x):
        step = x.shape[-1] // 16
        score = (x[:, :, ::step, ::step] * weight).flatten(1).sum(1)
        return score[:, None, None, None].expand(-1, 1, patches, patches)

    return critic


@pytest.mark.parametrize("patches", [1, 4, 15, 31])
def test_penalty_of_a_unit_gradient_critic_is_zero_whatever_the_patch_count(patches):
    weight = torch.randn(3, 16, 16, generator=torch.Generator().manual_seed(0))
    weight /= weight.norm()
    real, fake = torch.rand(4, 3, 64, 64), torch.rand(4, 3, 64, 64)
    gp = gradient_penalty(_linear_patch_critic(weight, patches), real, fake)
    assert gp.item() == pytest.approx(0.0, abs=1e-10)


def test_penalty_does_not_depend_on_image_size_or_patch_count():
    """The same image at 128x128 and subsampled to 64x64, with a critic of ||grad|| = 2 whose
    patch map grows with the image (as a PatchGAN's does): the penalty is (2 - 1)^2 both times.
    Differentiating the sum over patches instead gives (2 P - 1)^2, which grows with P."""
    weight = torch.randn(3, 16, 16, generator=torch.Generator().manual_seed(0))
    weight *= 2 / weight.norm()
    big = torch.rand(2, 3, 128, 128, generator=torch.Generator().manual_seed(1))
    penalties = []
    for image in (big, big[:, :, ::2, ::2]):
        critic = _linear_patch_critic(weight, image.shape[-1] // 8)
        penalties.append(gradient_penalty(critic, image, torch.zeros_like(image)).item())
    assert penalties == pytest.approx([1.0, 1.0], abs=1e-5)


def test_authors_variant_takes_one_norm_per_pixel_of_the_gradient_of_the_sum():
    def per_pixel_unit(x):  # d(sum over patches)/dx has norm 1 over channels at every pixel
        return x.sum(1, keepdim=True) / math.sqrt(3)

    real, fake = torch.rand(2, 3, 8, 8), torch.rand(2, 3, 8, 8)
    assert gradient_penalty(per_pixel_unit, real, fake, variant="authors").item() == (
        pytest.approx(0.0, abs=1e-10)
    )
    # The per-sample mean over 64 patches has gradient 1 / (64 sqrt 3) per channel: norm 1/8.
    sample = gradient_penalty(per_pixel_unit, real, fake, variant="sample").item()
    assert sample == pytest.approx((1 / 8 - 1) ** 2)
    with pytest.raises(ValueError, match="variant"):
        gradient_penalty(per_pixel_unit, real, fake, variant="per-patch")


def test_critic_scores_and_wasserstein_are_float32_under_bf16_autocast():
    critic = init_weights(Critic(ndf=4, n_layers=2), generator=torch.Generator().manual_seed(0))
    real = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    fake = real + 1e-3  # score differences far below a bf16 step of the scores
    with torch.autocast("cpu", dtype=torch.bfloat16):
        scores = critic(real)
        losses = critic_loss("wgan-gp", critic, real, fake)
    assert scores.dtype == torch.float32
    assert losses["wasserstein"].dtype == torch.float32
    assert losses["wasserstein"].item() != 0.0


def _gopro_crops(pairs, count, crop, rng):
    blurred, sharp = [], []
    for _ in range(count):
        b, s = pairs[rng.integers(len(pairs))]
        y, x = rng.integers(0, b.shape[0] - crop), rng.integers(0, b.shape[1] - crop)
        blurred.append(b[y : y + crop, x : x + crop])
        sharp.append(s[y : y + crop, x : x + crop])
    as_batch = lambda images: torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2) * 2 - 1  # noqa: E731
    return as_batch(blurred), as_batch(sharp)


@pytest.mark.slow
def test_a_briefly_trained_critic_tells_sharp_from_blurred_on_held_out_crops(shared):
    """200 critic steps (Adam 2e-4, batch 8, 64x64 crops of 7 GoPro pairs) on "real" = sharp,
    "fake" = blurred. Measured with seed 0: 29 of 32 held-out crops from 3 other pairs score
    higher when sharp, mean margin 0.026; with the penalty on the sum over patches (the bug
    this replaces) 15 of 32, margin -0.0002."""
    root = shared / "data" / "gopro_pairs"
    names = sorted(p.name for p in (root / "blur").iterdir())
    pairs = [(read_image(root / "blur" / n).rgb, read_image(root / "sharp" / n).rgb) for n in names]
    rng, torch_rng = np.random.default_rng(0), torch.Generator().manual_seed(0)
    critic = init_weights(Critic(ndf=16, n_layers=3), generator=torch_rng)
    optimizer = torch.optim.Adam(critic.parameters(), lr=2e-4, betas=(0.5, 0.999))
    for _ in range(200):
        blurred, sharp = _gopro_crops(pairs[:7], 8, 64, rng)
        loss = critic_loss("wgan-gp", critic, sharp, blurred, 10.0, torch_rng)["loss"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        blurred, sharp = _gopro_crops(pairs[7:], 32, 64, np.random.default_rng(1))
        margin = sample_scores(critic(sharp)) - sample_scores(critic(blurred))
    assert (margin > 0).float().mean().item() >= 0.8
    assert margin.mean().item() > 0.01
