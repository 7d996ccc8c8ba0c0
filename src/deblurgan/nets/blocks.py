"""The generator's layer kinds, each with its forward pass and, beside it, its tiling rule.

A layer kind's ``tiling_rule()`` says what exact tiled inference
(:func:`deblurgan.inference.tiled.tiled_forward`) computes for it, built from the very
modules its ``forward`` runs (see :mod:`deblurgan.nets.tiling`); change the layer and
the rule follows it, or raises :class:`~deblurgan.nets.tiling.TilingError`.
"""

from __future__ import annotations

import torch
from torch import nn

from deblurgan.nets.tiling import ConvStage, ResidualStages, TilingError


def seeded_dropout(x: torch.Tensor, p: float, generator: torch.Generator | None) -> torch.Tensor:
    """Inverted dropout whose mask is drawn from an explicit random generator.

    Args:
        x: Input tensor.
        p: Probability of zeroing an element, in [0, 1).
        generator: Source of randomness (must live on ``x.device``); ``None``
            falls back to PyTorch's default generator.

    Returns:
        ``x`` with each element zeroed with probability ``p`` and the survivors
        scaled by ``1 / (1 - p)``.

    Shape:
        Any; the output has the input's shape.
    """
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout probability must be in [0, 1), got {p}")
    if p == 0.0:
        return x
    if p == 0.5:  # the paper's rate: one random bit per element, ~3x cheaper than uniforms
        count = x.numel()
        bits = torch.empty((count + 7) // 8, dtype=torch.uint8, device=x.device)
        bits.random_(generator=generator)
        shifts = torch.arange(8, dtype=torch.uint8, device=x.device)
        keep = ((bits.unsqueeze(1) >> shifts) & 1).view(-1)[:count].view(x.shape)
        return x * keep * 2.0
    keep = torch.rand(x.shape, generator=generator, device=x.device) >= p
    return x * keep.to(x.dtype) * (1.0 / (1.0 - p))


class ConvNormAct(nn.Sequential):
    """A convolution, non-affine InstanceNorm and ReLU, as ``Sequential(conv, norm, act)``.

    The children keep the indices 0, 1, 2 of the plain ``nn.Sequential`` checkpoints
    were written with (``stem.0.weight``).

    Args:
        conv: The (transposed) convolution.
        channels: Its output channels.

    Shape:
        - Input: :math:`(B, C_{in}, H, W)`; output :math:`(B, C, H', W')` as ``conv`` maps it.
    """

    def __init__(self, conv: nn.Conv2d | nn.ConvTranspose2d, channels: int) -> None:
        super().__init__(conv, nn.InstanceNorm2d(channels), nn.ReLU(inplace=True))

    def tiling_rule(self) -> ConvStage:
        """One stage: the convolution, normalised with the whole image's statistics, then the
        activation (whatever modules now sit at indices 0, 1, 2)."""
        if len(self) != 3:
            raise TilingError(f"ConvNormAct holds conv, norm, activation; found {len(self)} parts")
        return ConvStage(self[0], self[1], self[2])


class TanhConv(nn.Conv2d):
    """A convolution followed by tanh (the generator's last layer).

    Takes the arguments of ``nn.Conv2d``; its parameters are named as a plain
    convolution's (``head.weight``).

    Shape:
        - Input: :math:`(B, C_{in}, H, W)`; output :math:`(B, C_{out}, H', W')` in (-1, 1).
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """tanh of the convolution."""
        return torch.tanh(super().forward(x))

    def tiling_rule(self) -> ConvStage:
        """One stage: the convolution, no normalisation, then tanh."""
        return ConvStage(self, None, nn.Tanh())


class ResBlock(nn.Module):
    """Reflect-padded 3x3 conv, IN, ReLU, dropout, 3x3 conv, IN, plus identity.

    Args:
        channels: Number of input and output channels.
        dropout: Dropout probability after the first convolution.

    Shape:
        - Input: :math:`(B, C, H, W)` with ``H, W >= 2``.
        - Output: :math:`(B, C, H, W)`.
    """

    def __init__(self, channels: int, dropout: float = 0.5) -> None:
        super().__init__()
        self.dropout = dropout
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, padding_mode="reflect")
        self.norm1 = nn.InstanceNorm2d(channels)
        self.act = nn.ReLU()
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, padding_mode="reflect")
        self.norm2 = nn.InstanceNorm2d(channels)

    def forward(self, x: torch.Tensor, dropout_rng: torch.Generator | None = None) -> torch.Tensor:
        """``x`` plus the branch; dropout in training mode or when ``dropout_rng`` is given."""
        h = self.act(self.norm1(self.conv1(x)))
        if self.training or dropout_rng is not None:
            h = seeded_dropout(h, self.dropout, dropout_rng)
        return x + self.norm2(self.conv2(h))

    def tiling_rule(self) -> ResidualStages:
        """The branch as two stages added to the input; dropout is off (eval mode)."""
        return ResidualStages(
            (ConvStage(self.conv1, self.norm1, self.act), ConvStage(self.conv2, self.norm2))
        )
