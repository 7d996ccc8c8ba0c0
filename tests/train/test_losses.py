import math

import pytest
import torch

from deblurgan.nets import Critic, init_weights
from deblurgan.train.losses import (
    content_loss,
    critic_loss,
    generator_adversarial_loss,
    gradient_penalty,
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
