"""The DeblurGAN generator (paper section 3.2, Figure 3).

A Johnson-style encoder / ResBlock / decoder network with a global skip
connection ("ResOut"): the network predicts a residual that is added to the
blurred input, and the sum is clamped to the image range [-1, 1].
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn


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


@dataclasses.dataclass(frozen=True)
class Layer:
    """One step of the generator, as both its forward pass and exact tiling read it.

    Attributes:
        kind: ``"conv_norm_relu"``: ``module`` is ``Sequential(conv, InstanceNorm, ReLU)``;
            ``"res_block"``: a :class:`ResBlock`; ``"tanh_head"``: the last convolution,
            followed by tanh.
        module: The layer's module (its parameters are the checkpoint's).
    """

    kind: Literal["conv_norm_relu", "res_block", "tanh_head"]
    module: nn.Module


def _conv_norm_relu(conv: nn.Module, channels: int) -> nn.Sequential:
    return nn.Sequential(conv, nn.InstanceNorm2d(channels), nn.ReLU(inplace=True))


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
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, padding_mode="reflect")
        self.norm2 = nn.InstanceNorm2d(channels)

    def forward(self, x: torch.Tensor, dropout_rng: torch.Generator | None = None) -> torch.Tensor:
        h = F.relu(self.norm1(self.conv1(x)))
        if self.training or dropout_rng is not None:
            h = seeded_dropout(h, self.dropout, dropout_rng)
        return x + self.norm2(self.conv2(h))


class Generator(nn.Module):
    """DeblurGAN generator: maps a blurred image in [-1, 1] to a sharp estimate.

    The default arguments are the paper's configuration (11,378,179 parameters).
    InstanceNorm never tracks running statistics, so it always normalises with
    the statistics of the image at hand. Dropout is active in training mode, or
    in any mode when ``forward`` receives a ``dropout_rng`` (the paper's
    stochastic test-time behaviour, made explicit and seedable).

    Args:
        in_channels: Input channels.
        out_channels: Output channels; must equal ``in_channels`` when
            ``learn_residual`` is true.
        ngf: Width of the first layer; the ResBlocks run at ``4 * ngf``.
        n_blocks: Number of ResBlocks.
        dropout: Dropout probability inside each ResBlock.
        learn_residual: Add the input to the output (the paper's ResOut).

    Shape:
        - Input: :math:`(B, C_{in}, H, W)` with ``H`` and ``W`` multiples of 4
          and at least 8 (:class:`deblurgan.Deblurrer` pads any size for you).
        - Output: :math:`(B, C_{out}, H, W)`, in [-1, 1].

    Examples:
        >>> net = Generator(ngf=8, n_blocks=1)
        >>> net(torch.zeros(1, 3, 16, 20)).shape
        torch.Size([1, 3, 16, 20])
    """

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int = 3,
        ngf: int = 64,
        n_blocks: int = 9,
        dropout: float = 0.5,
        learn_residual: bool = True,
    ) -> None:
        super().__init__()
        if min(in_channels, out_channels, ngf) < 1 or n_blocks < 0:
            raise ValueError(
                f"channels and ngf must be >= 1 and n_blocks >= 0, got in_channels={in_channels}, "
                f"out_channels={out_channels}, ngf={ngf}, n_blocks={n_blocks}"
            )
        if learn_residual and in_channels != out_channels:
            raise ValueError("learn_residual needs in_channels == out_channels")
        self.config: dict[str, Any] = {
            "in_channels": in_channels,
            "out_channels": out_channels,
            "ngf": ngf,
            "n_blocks": n_blocks,
            "dropout": dropout,
            "learn_residual": learn_residual,
        }
        self.learn_residual = learn_residual
        self.stem = _conv_norm_relu(
            nn.Conv2d(in_channels, ngf, 7, padding=3, padding_mode="reflect"), ngf
        )
        self.down = nn.Sequential(
            _conv_norm_relu(nn.Conv2d(ngf, 2 * ngf, 3, stride=2, padding=1), 2 * ngf),
            _conv_norm_relu(nn.Conv2d(2 * ngf, 4 * ngf, 3, stride=2, padding=1), 4 * ngf),
        )
        self.blocks = nn.ModuleList(ResBlock(4 * ngf, dropout) for _ in range(n_blocks))
        self.up = nn.Sequential(
            _conv_norm_relu(_upconv(4 * ngf, 2 * ngf), 2 * ngf),
            _conv_norm_relu(_upconv(2 * ngf, ngf), ngf),
        )
        self.head = nn.Conv2d(ngf, out_channels, 7, padding=3, padding_mode="reflect")

    def layers(self) -> tuple[Layer, ...]:
        """The network from input to residual, in order: what :meth:`forward` runs and what
        :func:`deblurgan.inference.tiled.tiled_forward` runs tile by tile."""
        return (
            Layer("conv_norm_relu", self.stem),
            *(Layer("conv_norm_relu", layer) for layer in self.down),
            *(Layer("res_block", block) for block in self.blocks),
            *(Layer("conv_norm_relu", layer) for layer in self.up),
            Layer("tanh_head", self.head),
        )

    def forward(self, x: torch.Tensor, dropout_rng: torch.Generator | None = None) -> torch.Tensor:
        """Restore ``x``; ``dropout_rng`` turns on seeded dropout outside training."""
        h = x
        for layer in self.layers():
            if layer.kind == "res_block":
                h = layer.module(h, dropout_rng)
            elif layer.kind == "tanh_head":
                h = torch.tanh(layer.module(h))
            else:
                h = layer.module(h)
        if not self.learn_residual:
            return h
        return torch.clamp(x + h, -1.0, 1.0)


def _upconv(in_channels: int, out_channels: int) -> nn.ConvTranspose2d:
    return nn.ConvTranspose2d(in_channels, out_channels, 3, stride=2, padding=1, output_padding=1)
