"""A NAFNet-style U-Net generator (Chen et al., "Simple Baselines for Image Restoration",
ECCV 2022), the modern alternative to the paper's ResNet generator.

Each level of the U-Net is a stack of NAF blocks: LayerNorm over channels, a 1x1
expansion, a 3x3 depthwise convolution, a *simple gate* (the channels split in two
halves, multiplied), simplified channel attention (a global average pool and a 1x1
convolution that rescales the channels), a 1x1 projection, then the same again as a
feed-forward part; both parts are residual with learned per-channel scales that start
at zero, so every block starts as the identity. Downsampling is a 2x2 stride-2
convolution doubling the width, upsampling a 1x1 convolution and a pixel shuffle halving
it, and encoder features are added (not concatenated) to the decoder's. The network
predicts a residual added to its input (``learn_residual``), clamped to [-1, 1].

No nonlinearity but the gate, no normalisation statistics across the batch: it trains
well with L1 or PSNR losses, large batches and bf16, which is what a short GPU sprint
needs (see :mod:`deblurgan.train.sprint`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from deblurgan.nets.blocks import seeded_dropout


class LayerNorm2d(nn.Module):
    """LayerNorm over the channels of each pixel, with a per-channel scale and shift.

    Statistics are taken in float32 also under bf16 autocast.

    Shape:
        - Input: :math:`(B, C, H, W)`; output the same shape and dtype.
    """

    def __init__(self, channels: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise each pixel's channel vector."""
        h = x.float()
        mean = h.mean(1, keepdim=True)
        var = (h - mean).pow(2).mean(1, keepdim=True)
        h = (h - mean) * torch.rsqrt(var + self.eps)
        return (h * self.weight[:, None, None] + self.bias[:, None, None]).to(x.dtype)


class NAFBlock(nn.Module):
    """One NAF block: gated depthwise-convolution part and gated feed-forward part.

    Args:
        channels: Width in and out.
        dropout: Dropout probability on each part's output (0: none, NAFNet's default).

    Shape:
        - Input: :math:`(B, C, H, W)`; output the same shape.
    """

    def __init__(self, channels: int, dropout: float = 0.0) -> None:
        super().__init__()
        c, wide = channels, 2 * channels
        self.norm1 = LayerNorm2d(c)
        self.expand = nn.Conv2d(c, wide, 1)
        self.depthwise = nn.Conv2d(wide, wide, 3, padding=1, groups=wide)
        self.attention = nn.Conv2d(c, c, 1)  # simplified channel attention, after the gate
        self.project = nn.Conv2d(c, c, 1)
        self.norm2 = LayerNorm2d(c)
        self.ffn_in = nn.Conv2d(c, wide, 1)
        self.ffn_out = nn.Conv2d(c, c, 1)
        self.beta = nn.Parameter(torch.zeros(1, c, 1, 1))
        self.gamma = nn.Parameter(torch.zeros(1, c, 1, 1))
        self.dropout = dropout

    def forward(self, x: torch.Tensor, dropout_rng: torch.Generator | None = None) -> torch.Tensor:
        """Both residual parts; dropout only in training mode or with ``dropout_rng``."""
        p = self.dropout if (self.training or dropout_rng is not None) else 0.0
        h = self.depthwise(self.expand(self.norm1(x)))
        a, b = h.chunk(2, dim=1)
        h = a * b
        h = h * self.attention(h.mean((2, 3), keepdim=True))
        y = x + self.beta * seeded_dropout(self.project(h), p, dropout_rng)
        a, b = self.ffn_in(self.norm2(y)).chunk(2, dim=1)
        return y + self.gamma * seeded_dropout(self.ffn_out(a * b), p, dropout_rng)


class NAFNet(nn.Module):
    """NAFNet-style U-Net generator: a blurred image in [-1, 1] to a sharp estimate.

    Args:
        in_channels: Input channels.
        out_channels: Output channels; must equal ``in_channels`` with ``learn_residual``.
        ngf: Width of the full-resolution level; each level down doubles it.
        n_blocks: NAF blocks at the lowest resolution (the middle).
        dropout: Dropout probability inside every block (0 in NAFNet).
        learn_residual: Add the input to the output and clamp to [-1, 1].
        encoder_blocks: NAF blocks per encoder level, full resolution first; their count
            is the number of downsamplings.
        decoder_blocks: NAF blocks per decoder level, lowest resolution first (default:
            one per level).

    Shape:
        - Input: :math:`(B, C_{in}, H, W)`, ``H`` and ``W`` multiples of
          :attr:`size_multiple` (:class:`deblurgan.Deblurrer` pads any size).
        - Output: :math:`(B, C_{out}, H, W)`, in [-1, 1] with ``learn_residual``.

    Examples:
        >>> net = NAFNet(ngf=4, n_blocks=1, encoder_blocks=(1, 1))
        >>> net(torch.zeros(1, 3, 8, 12)).shape
        torch.Size([1, 3, 8, 12])
    """

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int = 3,
        ngf: int = 32,
        n_blocks: int = 4,
        dropout: float = 0.0,
        learn_residual: bool = True,
        encoder_blocks: Sequence[int] = (1, 1, 2),
        decoder_blocks: Sequence[int] | None = None,
    ) -> None:
        super().__init__()
        encoder_blocks = [int(n) for n in encoder_blocks]
        levels = len(encoder_blocks)
        decoder_blocks = (
            [1] * levels if decoder_blocks is None else [int(n) for n in decoder_blocks]
        )
        if min(in_channels, out_channels, ngf) < 1 or n_blocks < 0:
            raise ValueError(
                f"channels and ngf must be >= 1 and n_blocks >= 0, got in_channels={in_channels}, "
                f"out_channels={out_channels}, ngf={ngf}, n_blocks={n_blocks}"
            )
        if len(decoder_blocks) != levels or min(encoder_blocks + decoder_blocks, default=0) < 0:
            raise ValueError(
                f"encoder_blocks and decoder_blocks need one count >= 0 per level, got "
                f"{encoder_blocks} and {decoder_blocks}"
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
            "encoder_blocks": encoder_blocks,
            "decoder_blocks": decoder_blocks,
        }
        self.learn_residual = learn_residual
        self.stem = nn.Conv2d(in_channels, ngf, 3, padding=1)
        widths = [ngf * 2**level for level in range(levels + 1)]
        self.encoders = nn.ModuleList(
            _stage(widths[i], encoder_blocks[i], dropout) for i in range(levels)
        )
        self.downs = nn.ModuleList(
            nn.Conv2d(widths[i], widths[i + 1], 2, stride=2) for i in range(levels)
        )
        self.middle = _stage(widths[levels], n_blocks, dropout)
        self.ups = nn.ModuleList(
            nn.Sequential(nn.Conv2d(widths[i + 1], 2 * widths[i + 1], 1), nn.PixelShuffle(2))
            for i in reversed(range(levels))
        )
        self.decoders = nn.ModuleList(
            _stage(widths[i], decoder_blocks[levels - 1 - i], dropout)
            for i in reversed(range(levels))
        )
        self.head = nn.Conv2d(ngf, out_channels, 3, padding=1)

    @property
    def size_multiple(self) -> int:
        """Input sides must be multiples of this: each level halves them."""
        return 2 ** len(self.downs)

    @property
    def min_side(self) -> int:
        """The shortest input side: one pixel at the lowest resolution."""
        return self.size_multiple

    @property
    def full_resolution_channels(self) -> int:
        """Channels of the widest full-resolution activation: a block's expansion, ``2 * ngf``."""
        return 2 * self.config["ngf"]

    def forward(self, x: torch.Tensor, dropout_rng: torch.Generator | None = None) -> torch.Tensor:
        """Restore ``x``; ``dropout_rng`` turns on seeded dropout outside training."""
        h = self.stem(x)
        skips = []
        for encoder, down in zip(self.encoders, self.downs, strict=True):
            h = _run(encoder, h, dropout_rng)
            skips.append(h)
            h = down(h)
        h = _run(self.middle, h, dropout_rng)
        for up, decoder, skip in zip(self.ups, self.decoders, reversed(skips), strict=True):
            h = _run(decoder, up(h) + skip, dropout_rng)
        residual = self.head(h)
        if not self.learn_residual:
            return residual
        return torch.clamp(x + residual, -1.0, 1.0)


def _stage(channels: int, blocks: int, dropout: float) -> nn.ModuleList:
    return nn.ModuleList(NAFBlock(channels, dropout) for _ in range(blocks))


def _run(stage: nn.ModuleList, h: torch.Tensor, rng: torch.Generator | None) -> torch.Tensor:
    for block in stage:
        h = block(h, rng)
    return h
