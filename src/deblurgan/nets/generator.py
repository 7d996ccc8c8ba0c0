"""The DeblurGAN generator (paper section 3.2, Figure 3).

A Johnson-style encoder / ResBlock / decoder network with a global skip
connection ("ResOut"): the network predicts a residual that is added to the
blurred input, and the sum is clamped to the image range [-1, 1].
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from deblurgan.nets.blocks import ConvNormAct, ResBlock, TanhConv, seeded_dropout

__all__ = ["ConvNormAct", "Generator", "ResBlock", "TanhConv", "seeded_dropout"]


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
        self.stem = ConvNormAct(
            nn.Conv2d(in_channels, ngf, 7, padding=3, padding_mode="reflect"), ngf
        )
        self.down = nn.Sequential(
            ConvNormAct(nn.Conv2d(ngf, 2 * ngf, 3, stride=2, padding=1), 2 * ngf),
            ConvNormAct(nn.Conv2d(2 * ngf, 4 * ngf, 3, stride=2, padding=1), 4 * ngf),
        )
        self.blocks = nn.ModuleList(ResBlock(4 * ngf, dropout) for _ in range(n_blocks))
        self.up = nn.Sequential(
            ConvNormAct(_upconv(4 * ngf, 2 * ngf), 2 * ngf),
            ConvNormAct(_upconv(2 * ngf, ngf), ngf),
        )
        self.head = TanhConv(ngf, out_channels, 7, padding=3, padding_mode="reflect")

    @property
    def size_multiple(self) -> int:
        """Input sides must be multiples of this: the network halves them twice."""
        return 4

    @property
    def min_side(self) -> int:
        """The shortest input side: the ResBlocks need at least 2 x 2 feature maps."""
        return 8

    @property
    def full_resolution_channels(self) -> int:
        """Channels of the widest full-resolution activation (``ngf``), the unit of the memory
        estimates that decide when to tile."""
        return self.config["ngf"]

    def layers(self) -> Sequence[nn.Module]:
        """The network from input to residual, in order: what :meth:`forward` runs and what
        :func:`deblurgan.inference.tiled.tiled_forward` runs tile by tile (each layer has a
        ``tiling_rule()``)."""
        return (self.stem, *self.down, *self.blocks, *self.up, self.head)

    def finish(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        """The last step of :meth:`forward` (and of tiled inference): the input plus the
        residual, clamped to [-1, 1] (ResOut), or the residual branch alone.

        Shape:
            - x, residual: :math:`(B, C, H, W)`; output the same shape.
        """
        if not self.learn_residual:
            return residual
        return torch.clamp(x + residual, -1.0, 1.0)

    def forward(self, x: torch.Tensor, dropout_rng: torch.Generator | None = None) -> torch.Tensor:
        """Restore ``x``; ``dropout_rng`` turns on seeded dropout outside training."""
        h = x
        for layer in self.layers():
            h = layer(h, dropout_rng) if isinstance(layer, ResBlock) else layer(h)
        return self.finish(x, h)


def _upconv(in_channels: int, out_channels: int) -> nn.ConvTranspose2d:
    return nn.ConvTranspose2d(in_channels, out_channels, 3, stride=2, padding=1, output_padding=1)
