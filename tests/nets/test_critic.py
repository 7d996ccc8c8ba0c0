import torch

from deblurgan.nets import Critic, patch_receptive_field


def test_paper_configuration_has_the_published_parameter_count():
    assert sum(p.numel() for p in Critic(ndf=64).parameters()) == 2_764_737


def test_receptive_field_formula():
    assert patch_receptive_field(3) == 70
    assert patch_receptive_field(1) == 16  # 4 -> 7 -> 16
    assert Critic(ndf=4).receptive_field == 70


def test_one_score_sees_exactly_a_70x70_window():
    """Backpropagate one interior score; the input pixels it depends on span 70x70.

    InstanceNorm mixes in whole-image statistics, so it is swapped for identity
    here to expose the convolutions' own window.
    """
    critic = Critic(ndf=4).eval()
    for i, layer in enumerate(critic.layers):
        if isinstance(layer, torch.nn.InstanceNorm2d):
            critic.layers[i] = torch.nn.Identity()
    x = torch.randn(1, 3, 160, 160, requires_grad=True)
    scores = critic(x)
    h, w = scores.shape[-2:]
    scores[0, 0, h // 2, w // 2].backward()
    rows = torch.nonzero(x.grad.abs().sum(dim=(0, 1, 3))).flatten()
    cols = torch.nonzero(x.grad.abs().sum(dim=(0, 1, 2))).flatten()
    assert rows.max() - rows.min() + 1 == 70
    assert cols.max() - cols.min() + 1 == 70


def test_scores_are_unbounded_real_numbers_per_patch():
    critic = Critic(ndf=8)
    out = critic(torch.randn(2, 3, 64, 48) * 3)
    assert out.shape[:2] == (2, 1) and out.shape[-2:] == (11, 9)  # 64 -> 33 -> 17 -> 9 -> 10 -> 11
    assert out.dtype == torch.float32


def test_critic_is_unconditional_three_channel_by_default():
    assert Critic().layers[0].in_channels == 3
    norms = [m for m in Critic().modules() if isinstance(m, torch.nn.InstanceNorm2d)]
    assert len(norms) == 3  # every conv but the first and the last
