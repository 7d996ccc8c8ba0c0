import pytest
import torch
from torch import nn

from deblurgan.nets.blocks import ConvNormAct, ResBlock, TanhConv
from deblurgan.nets.tiling import ConvStage, ResidualStages, TilingError


def test_conv_norm_act_keeps_the_plain_sequential_keys_and_its_rule_names_its_modules():
    layer = ConvNormAct(nn.Conv2d(3, 4, 3, padding=1), 4)
    assert list(layer.state_dict()) == ["0.weight", "0.bias"]
    rule = layer.tiling_rule()
    assert (rule.conv, rule.norm, rule.activation) == (layer[0], layer[1], layer[2])
    x = torch.randn(1, 3, 6, 6)
    expected = torch.relu(nn.functional.instance_norm(layer[0](x), eps=1e-5))
    torch.testing.assert_close(layer(x), expected)


def test_tanh_conv_is_a_convolution_then_tanh():
    head = TanhConv(4, 3, 3, padding=1)
    x = torch.randn(1, 4, 5, 5)
    torch.testing.assert_close(
        head(x), torch.tanh(nn.functional.conv2d(x, head.weight, head.bias, padding=1))
    )
    rule = head.tiling_rule()
    assert rule.conv is head and rule.norm is None and isinstance(rule.activation, nn.Tanh)


def test_res_block_rule_is_two_stages_around_its_own_modules():
    block = ResBlock(4)
    rule = block.tiling_rule()
    assert isinstance(rule, ResidualStages) and rule.in_channels == 4
    first, second = rule.stages
    assert (first.conv, first.norm, first.activation) == (block.conv1, block.norm1, block.act)
    assert (second.conv, second.norm, second.activation) == (block.conv2, block.norm2, None)


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ((nn.Linear(2, 2),), "starts with a Conv2d"),
        ((nn.Conv2d(2, 2, 1), nn.InstanceNorm2d(2, track_running_stats=True)), "running"),
        ((nn.Conv2d(2, 2, 1), nn.GroupNorm(1, 2)), "InstanceNorm2d"),
        ((nn.Conv2d(2, 2, 1), None, nn.Softmax(dim=1)), "Softmax.* not among the pointwise"),
    ],
)
def test_stages_refuse_parts_tiling_cannot_reproduce(parts, message):
    with pytest.raises(TilingError, match=message):
        ConvStage(*parts)
    ConvStage(nn.Conv2d(2, 2, 1), nn.InstanceNorm2d(2, affine=True), nn.LeakyReLU())  # fine
