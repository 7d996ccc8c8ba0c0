import pytest
import torch
from torch import nn

from deblurgan.checkpoint import save_generator
from deblurgan.nets import Generator
from deblurgan.nets.architectures import ARCHITECTURES
from deblurgan.train.config import ConfigError, ModelConfig, load_config
from deblurgan.train.run_setup import build_networks, critic_steps, total_iterations


class HeadlessNet(nn.Module):
    """A second architecture for the table: one convolution, no ``head``."""

    def __init__(self, ngf=4, n_blocks=1, dropout=0.0, learn_residual=True):
        super().__init__()
        self.config = {"ngf": ngf, "n_blocks": n_blocks, "dropout": dropout}
        self.conv = nn.Conv2d(3, 3, 3, padding=1)

    def forward(self, x, dropout_rng=None):
        return torch.clamp(x + self.conv(x), -1, 1)


@pytest.fixture
def headless(monkeypatch):
    monkeypatch.setitem(ARCHITECTURES, "headless", f"{__name__}.HeadlessNet")
    return "headless"


def test_the_configured_architecture_is_built_from_the_table_and_seeded(headless):
    model = ModelConfig(architecture=headless, ngf=4, n_blocks=1, ndf=4, n_layers=2)
    first, critic = build_networks(model, seed=3, resume=False)
    again, _ = build_networks(model, seed=3, resume=False)
    other, _ = build_networks(model, seed=4, resume=False)
    assert type(first) is HeadlessNet and first.config["ngf"] == 4
    torch.testing.assert_close(first.conv.weight, again.conv.weight, rtol=0, atol=0)
    assert not torch.equal(first.conv.weight, other.conv.weight)
    assert float(first.conv.weight.detach().std()) == pytest.approx(
        0.02, rel=0.5
    )  # N(0, 0.02) init
    assert critic.config["ndf"] == 4


def test_identity_init_zeros_the_head_or_refuses_without_one(headless):
    resnet = ModelConfig(ngf=4, n_blocks=1, ndf=4, n_layers=2, identity_init=True)
    generator, _ = build_networks(resnet, seed=0, resume=False)
    x = torch.rand(1, 3, 16, 16) * 2 - 1
    torch.testing.assert_close(generator.eval()(x), x, rtol=0, atol=0)
    with pytest.raises(ConfigError, match="'headless' architecture has no head"):
        build_networks(ModelConfig(architecture=headless, identity_init=True), seed=0, resume=False)


def test_init_from_another_architecture_is_refused_naming_both(tmp_path, headless):
    path = tmp_path / "resnet.safetensors"
    saved = Generator(ngf=4, n_blocks=1)
    torch.nn.init.normal_(saved.head.weight, generator=torch.Generator().manual_seed(9))
    save_generator(saved, path)
    model = ModelConfig(architecture=headless, init_from=str(path))
    with pytest.raises(ConfigError, match="holds a 'resnet' generator, not 'headless'"):
        build_networks(model, seed=0, resume=False)
    loaded, _ = build_networks(
        ModelConfig(ngf=4, n_blocks=1, init_from=str(path)), seed=1, resume=False
    )
    assert torch.equal(loaded.head.weight, saved.head.weight)


def test_without_a_gan_loss_there_are_no_critic_steps_and_epochs_count_all_batches():
    config = load_config(None, ["optim.epochs=2", "optim.critic_steps=4"])
    assert critic_steps(config) == 4
    assert total_iterations(config, batches_per_epoch=10) == 4  # ceil(2 * 10 / 5)
    plain = load_config(None, ["optim.epochs=2", "loss.gan=none"])
    assert critic_steps(plain) == 0 and total_iterations(plain, 10) == 20
    assert total_iterations(load_config(None, ["optim.iterations=7"]), 10) == 7


def test_init_from_with_another_learn_residual_is_refused_naming_both_values(tmp_path):
    path = tmp_path / "residual.safetensors"
    save_generator(Generator(ngf=4, n_blocks=1, learn_residual=True, dropout=0.5), path)
    model = ModelConfig(ngf=4, n_blocks=1, learn_residual=False, init_from=str(path))
    with pytest.raises(
        ConfigError, match="built with learn_residual=True, but this run configures learn_resid"
    ):
        build_networks(model, seed=0, resume=False)
    wider = ModelConfig(ngf=8, n_blocks=1, init_from=str(path))
    with pytest.raises(ConfigError, match="ngf=4, but this run configures ngf=8: set model.ngf"):
        build_networks(wider, seed=0, resume=False)
    other_dropout = ModelConfig(ngf=4, n_blocks=1, dropout=0.0, init_from=str(path))
    assert build_networks(other_dropout, seed=0, resume=False)[0].config["dropout"] == 0.0
