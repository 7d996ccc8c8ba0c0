import pytest
import torch

from deblurgan.nets import Generator, ResBlock, init_weights, seeded_dropout


def test_paper_configuration_has_the_published_parameter_count():
    assert sum(p.numel() for p in Generator().parameters()) == 11_378_179


def test_instance_norm_has_no_parameters_and_no_running_statistics():
    net = Generator(ngf=8, n_blocks=2)
    norms = [m for m in net.modules() if isinstance(m, torch.nn.InstanceNorm2d)]
    assert norms and all(not m.affine and not m.track_running_stats for m in norms)
    assert not list(net.buffers())


@pytest.mark.parametrize("shape", [(8, 8), (12, 20), (64, 36)])
def test_output_shape_and_range(tiny_generator, shape):
    x = torch.rand(2, 3, *shape) * 2 - 1
    y = tiny_generator(x)
    assert y.shape == x.shape
    assert y.min() >= -1 and y.max() <= 1


def test_zero_residual_branch_returns_the_input(identity_generator):
    x = torch.rand(1, 3, 16, 24) * 2 - 1
    torch.testing.assert_close(identity_generator(x), x, rtol=0, atol=0)


def test_without_global_skip_output_is_the_tanh_branch():
    net = Generator(ngf=4, n_blocks=1, learn_residual=False).eval()
    torch.nn.init.zeros_(net.head.weight)
    torch.nn.init.zeros_(net.head.bias)
    assert torch.count_nonzero(net(torch.rand(1, 3, 8, 8))) == 0


def test_eval_is_deterministic_and_train_mode_applies_dropout(tiny_generator):
    x = torch.rand(1, 3, 16, 16) * 2 - 1
    torch.testing.assert_close(tiny_generator(x), tiny_generator(x), rtol=0, atol=0)
    tiny_generator.train()
    a = tiny_generator(x, dropout_rng=torch.Generator().manual_seed(1))
    b = tiny_generator(x, dropout_rng=torch.Generator().manual_seed(2))
    assert not torch.equal(a, b)


def test_seeded_dropout_in_eval_mode_is_reproducible_per_seed(tiny_generator):
    x = torch.rand(1, 3, 16, 16) * 2 - 1
    first = tiny_generator(x, dropout_rng=torch.Generator().manual_seed(7))
    again = tiny_generator(x, dropout_rng=torch.Generator().manual_seed(7))
    other = tiny_generator(x, dropout_rng=torch.Generator().manual_seed(8))
    torch.testing.assert_close(first, again, rtol=0, atol=0)
    assert not torch.equal(first, other)
    assert not torch.equal(first, tiny_generator(x))


def test_seeded_dropout_keeps_the_expected_fraction_and_the_mean():
    x = torch.ones(200_000)
    y = seeded_dropout(x, 0.5, torch.Generator().manual_seed(0))
    kept = (y != 0).float().mean().item()
    assert abs(kept - 0.5) < 0.01
    assert abs(y.mean().item() - 1.0) < 0.02
    assert set(torch.unique(y).tolist()) == {0.0, 2.0}
    with pytest.raises(ValueError, match="dropout probability"):
        seeded_dropout(x, 1.0, None)


def test_seeded_dropout_other_rates_and_odd_sizes():
    x = torch.ones(100_003)
    y = seeded_dropout(x, 0.3, torch.Generator().manual_seed(0))
    assert abs((y != 0).float().mean().item() - 0.7) < 0.01
    odd = seeded_dropout(torch.ones(3, 5, 7), 0.5, torch.Generator().manual_seed(1))
    assert odd.shape == (3, 5, 7) and set(torch.unique(odd).tolist()) <= {0.0, 2.0}


def test_resblock_is_identity_plus_branch():
    block = ResBlock(4, dropout=0.0).eval()
    torch.nn.init.zeros_(block.conv2.weight)
    torch.nn.init.zeros_(block.conv2.bias)
    x = torch.randn(1, 4, 6, 6)
    torch.testing.assert_close(block(x), x)  # IN of a constant-zero map is zero


def test_init_weights_draws_from_n_0_002_and_zeroes_biases():
    net = init_weights(Generator(), generator=torch.Generator().manual_seed(0))
    weights = torch.cat(
        [m.weight.flatten() for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    )
    assert abs(weights.mean().item()) < 1e-3
    assert abs(weights.std().item() - 0.02) < 1e-4
    assert all(
        torch.count_nonzero(m.bias) == 0
        for m in net.modules()
        if hasattr(m, "bias") and m.bias is not None
    )
    again = init_weights(Generator(), generator=torch.Generator().manual_seed(0))
    assert all(
        torch.equal(a, b) for a, b in zip(net.state_dict().values(), again.state_dict().values())
    )


def test_bad_configuration_fails_loudly():
    with pytest.raises(ValueError, match="in_channels == out_channels"):
        Generator(in_channels=1, out_channels=3)
    with pytest.raises(ValueError, match="ngf"):
        Generator(ngf=0)
