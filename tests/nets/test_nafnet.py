import pytest
import torch

from deblurgan.checkpoint import load_generator, save_generator
from deblurgan.nets.architectures import architecture_name, build_generator
from deblurgan.nets.nafnet import LayerNorm2d, NAFBlock, NAFNet


def tiny(**kwargs) -> NAFNet:
    return NAFNet(**{"ngf": 4, "n_blocks": 1, "encoder_blocks": (1, 1), **kwargs})


def test_layer_norm_normalises_each_pixel_over_channels():
    x = torch.randn(2, 5, 3, 4, generator=torch.Generator().manual_seed(0)) * 3 + 7
    y = LayerNorm2d(5)(x)
    assert torch.allclose(y.mean(1), torch.zeros(2, 3, 4), atol=1e-5)
    assert torch.allclose(y.var(1, unbiased=False), torch.ones(2, 3, 4), atol=1e-3)


def test_blocks_start_as_the_identity_and_the_network_as_the_input():
    x = torch.rand(1, 3, 8, 12) * 2 - 1
    h = torch.randn(1, 6, 4, 4, generator=torch.Generator().manual_seed(0))
    assert torch.equal(NAFBlock(6)(h), h)
    net = tiny()
    torch.nn.init.zeros_(net.head.weight)
    torch.nn.init.zeros_(net.head.bias)
    assert torch.equal(net(x), x)


def test_shapes_sizes_and_levels():
    net = NAFNet(ngf=4, n_blocks=0, encoder_blocks=(1, 0, 1))
    assert (net.size_multiple, net.min_side, net.full_resolution_channels) == (8, 8, 8)
    x = torch.rand(2, 3, 16, 24) * 2 - 1
    out = net(x)
    assert out.shape == x.shape and out.abs().max() <= 1
    # The residual path is used: a non-zero head changes the output.
    assert not torch.equal(out, x)
    with pytest.raises(ValueError, match="one count >= 0 per level"):
        NAFNet(encoder_blocks=(1, 1), decoder_blocks=(1,))
    with pytest.raises(ValueError, match="learn_residual"):
        NAFNet(out_channels=1)


def test_every_level_sees_the_image():
    """A change in one corner reaches the whole lowest level: the output far away moves."""
    net = tiny().eval()
    for block in net.modules():
        if isinstance(block, NAFBlock):
            torch.nn.init.constant_(block.beta, 0.5)
            torch.nn.init.constant_(block.gamma, 0.5)
    x = torch.rand(1, 3, 16, 16) * 0.5
    y = x.clone()
    y[..., :2, :2] += 0.4
    assert (net(x) - net(y))[..., 12:, 12:].abs().max() > 0


def test_seeded_dropout_is_reproducible_and_off_in_eval():
    net = tiny(dropout=0.3)
    for block in net.modules():
        if isinstance(block, NAFBlock):
            torch.nn.init.constant_(block.beta, 1.0)
    x = torch.rand(1, 3, 8, 8)
    a = net(x, dropout_rng=torch.Generator().manual_seed(1))
    b = net(x, dropout_rng=torch.Generator().manual_seed(1))
    c = net(x, dropout_rng=torch.Generator().manual_seed(2))
    assert torch.equal(a, b) and not torch.equal(a, c)
    net.eval()
    assert torch.equal(net(x), net(x))


def test_saved_and_loaded_through_the_architecture_table(tmp_path):
    net = build_generator("nafnet", {"ngf": 4, "n_blocks": 1, "encoder_blocks": [1, 2]})
    assert architecture_name(net) == "nafnet"
    for p in net.parameters():
        torch.nn.init.normal_(p, 0, 0.1, generator=torch.Generator().manual_seed(3))
    save_generator(net, tmp_path / "g.safetensors")
    back = load_generator(tmp_path / "g.safetensors")
    x = torch.rand(1, 3, 8, 8) * 2 - 1
    assert type(back) is NAFNet and back.config == net.config
    assert torch.equal(back(x), net.eval()(x))
