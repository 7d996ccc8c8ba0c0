import pytest
import torch

from deblurgan.nets import Critic, Generator, init_weights
from deblurgan.train.config import LossConfig
from deblurgan.train.steps import critic_step, generator_step


def _nets():
    g = torch.Generator().manual_seed(0)
    return (
        init_weights(Generator(ngf=4, n_blocks=1), generator=g).train(),
        init_weights(Critic(ndf=4, n_layers=2), generator=g).train(),
    )


def _batch(seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(2, 3, 32, 32, generator=g) * 2 - 1, torch.rand(
        2, 3, 32, 32, generator=g
    ) * 2 - 1


def test_critic_step_updates_only_the_critic():
    generator, critic = _nets()
    before_g = [p.clone() for p in generator.parameters()]
    before_d = [p.clone() for p in critic.parameters()]
    logs = critic_step(
        generator,
        critic,
        torch.optim.Adam(critic.parameters(), 1e-3),
        *_batch(),
        loss=LossConfig(gan="wgan-gp", gp_weight=10.0),
        rng=torch.Generator().manual_seed(1),
    )
    assert set(logs) == {"critic_loss", "wasserstein", "gp"}
    assert all(torch.equal(a, b) for a, b in zip(before_g, generator.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(before_d, critic.parameters()))


def test_generator_step_updates_only_the_generator_and_unfreezes_the_critic():
    generator, critic = _nets()
    before_d = [p.clone() for p in critic.parameters()]
    before_g = [p.clone() for p in generator.parameters()]
    logs = generator_step(
        generator,
        critic,
        torch.optim.Adam(generator.parameters(), 1e-3),
        *_batch(),
        loss=LossConfig(gan="wgan-gp", content="l1", content_weight=100.0),
        rng=torch.Generator().manual_seed(1),
    )
    assert logs["generator_loss"] == pytest.approx(
        logs["adversarial"] + 100 * logs["content"], rel=1e-5
    )
    assert all(torch.equal(a, b) for a, b in zip(before_d, critic.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(before_g, generator.parameters()))
    assert all(p.requires_grad for p in critic.parameters())


def test_generator_step_adds_a_weighted_l1_pixel_term():
    generator, critic = _nets()
    blurred, sharp = _batch()
    logs = generator_step(
        generator,
        critic,
        torch.optim.SGD(generator.parameters(), 0.0),
        blurred,
        sharp,
        loss=LossConfig(gan="none", content="mse", content_weight=2.0, pixel_weight=3.0),
        rng=torch.Generator().manual_seed(1),
    )
    restored = generator(blurred, dropout_rng=torch.Generator().manual_seed(1))
    assert logs["pixel"] == pytest.approx((restored - sharp).abs().mean().item(), rel=1e-5)
    assert logs["generator_loss"] == pytest.approx(
        2 * logs["content"] + 3 * logs["pixel"], rel=1e-5
    )
