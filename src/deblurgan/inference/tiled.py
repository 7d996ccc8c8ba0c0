"""Exact tiled inference: the generator's output for a huge image, in bounded memory.

Tiling naively changes the result, because every InstanceNorm normalises with
statistics of the *whole* image. Here the network runs layer by layer: each
convolution is computed tile by tile (fetching the halo its kernel needs) into
a full-size buffer of that layer's raw output, while the per-channel sum and
sum of squares are accumulated in float64. The next layer reads the buffer and
normalises on the fly with the finished statistics. A buffer is freed as soon as
no later layer reads it, so at most a full-resolution buffer and the
half-resolution one it is computed from exist at once, never the activations of
the whole network; with ``storage=torch.float16`` those buffers take half the room.

With float32 storage the result equals whole-image inference to float
rounding (tested on odd sizes); float16 storage adds the rounding of the
stored activations (its agreement with fp32 is measured by
``benchmarks/inference.py``; figures in the README).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from deblurgan.nets.generator import Generator

Reader = Callable[[int, int, int, int], torch.Tensor]  # (y0, y1, x0, x1) -> (1, C, y1-y0, x1-x0)
EPS = 1e-5  # nn.InstanceNorm2d's default
PROCESS_BYTES = 384 * 2**20  # Python, PyTorch and the weights, before any activation


class _Stats:
    """Per-channel running sum and sum of squares in float64."""

    def __init__(self, channels: int, device: torch.device) -> None:
        self.total = torch.zeros(channels, dtype=torch.float64, device=device)
        self.squares = torch.zeros(channels, dtype=torch.float64, device=device)
        self.count = 0

    def add(self, x: torch.Tensor) -> None:
        x64 = x.to(torch.float64)
        self.total += x64.sum(dim=(0, 2, 3))
        self.squares += (x64 * x64).sum(dim=(0, 2, 3))
        self.count += x.shape[2] * x.shape[3]

    def mean_and_scale(self) -> tuple[torch.Tensor, torch.Tensor]:
        mean = self.total / self.count
        var = (self.squares / self.count - mean * mean).clamp_min(0)
        return mean.float().view(1, -1, 1, 1), (1.0 / torch.sqrt(var + EPS)).float().view(
            1, -1, 1, 1
        )


def _buffer_reader(
    buffer: torch.Tensor, stats: _Stats | None, relu: bool, skip: Reader | None = None
) -> Reader:
    """Read a region of a stored layer output, normalised (and ReLU'd, plus a skip) on the fly."""
    mean, scale = stats.mean_and_scale() if stats is not None else (None, None)

    def read(y0: int, y1: int, x0: int, x1: int) -> torch.Tensor:
        x = buffer[:, :, y0:y1, x0:x1].to(torch.float32, copy=True)  # one copy, then in place
        if stats is not None:
            x.sub_(mean).mul_(scale)
        if relu:
            x.relu_()
        if skip is not None:
            x.add_(skip(y0, y1, x0, x1))
        return x

    return read


def _conv_tiled(
    conv: nn.Conv2d, read: Reader, size: tuple[int, int], tile: int, storage: torch.dtype
):
    """Apply ``conv`` (reflect or zero padding, any stride) over tiles of its output."""
    k, s = conv.kernel_size[0], conv.stride[0]
    p = conv.padding[0]
    height, width = size
    out_h, out_w = (height + 2 * p - k) // s + 1, (width + 2 * p - k) // s + 1
    out = torch.empty(1, conv.out_channels, out_h, out_w, dtype=storage, device=conv.weight.device)
    stats = _Stats(conv.out_channels, conv.weight.device)
    for oy in range(0, out_h, tile):
        for ox in range(0, out_w, tile):
            oy1, ox1 = min(oy + tile, out_h), min(ox + tile, out_w)
            # input window in padded coordinates, then clipped to the image
            iy0, iy1 = oy * s - p, (oy1 - 1) * s - p + k
            ix0, ix1 = ox * s - p, (ox1 - 1) * s - p + k
            cy0, cy1, cx0, cx1 = max(iy0, 0), min(iy1, height), max(ix0, 0), min(ix1, width)
            region = read(cy0, cy1, cx0, cx1)
            pads = (cx0 - ix0, ix1 - cx1, cy0 - iy0, iy1 - cy1)
            if any(pads):
                mode = "reflect" if conv.padding_mode == "reflect" else "constant"
                region = F.pad(region, pads, mode=mode)
            result = F.conv2d(region, conv.weight, conv.bias, stride=s)
            out[:, :, oy:oy1, ox:ox1] = result.to(storage)
            stats.add(result)
    return out, stats


def _conv_transpose_tiled(
    conv: nn.ConvTranspose2d, read: Reader, size: tuple[int, int], tile: int, storage: torch.dtype
):
    """Apply a stride-2 transposed conv (padding p, output padding) over tiles of its output."""
    k, s, p = conv.kernel_size[0], conv.stride[0], conv.padding[0]
    height, width = size
    out_h = (height - 1) * s - 2 * p + k + conv.output_padding[0]
    out_w = (width - 1) * s - 2 * p + k + conv.output_padding[1]
    out = torch.empty(1, conv.out_channels, out_h, out_w, dtype=storage, device=conv.weight.device)
    stats = _Stats(conv.out_channels, conv.weight.device)
    for oy in range(0, out_h, tile):
        for ox in range(0, out_w, tile):
            oy1, ox1 = min(oy + tile, out_h), min(ox + tile, out_w)
            # inputs i contribute to outputs y = i*s - p + j, j in [0, k)
            iy0, iy1 = max(0, math.floor((oy + p - k + 1) / s)), min(height, (oy1 - 1 + p) // s + 1)
            ix0, ix1 = max(0, math.floor((ox + p - k + 1) / s)), min(width, (ox1 - 1 + p) // s + 1)
            full = F.conv_transpose2d(read(iy0, iy1, ix0, ix1), conv.weight, conv.bias, stride=s)
            # full[j] sits at global position iy0 * s - p + j
            fy, fx = oy - (iy0 * s - p), ox - (ix0 * s - p)
            result = full[:, :, fy : fy + oy1 - oy, fx : fx + ox1 - ox]
            if result.shape[-2:] != (oy1 - oy, ox1 - ox):
                raise ValueError("output padding beyond the last input's reach is not supported")
            out[:, :, oy:oy1, ox:ox1] = result.to(storage)
            stats.add(result)
    return out, stats


@torch.no_grad()
def tiled_forward(
    generator: Generator, x: torch.Tensor, tile: int = 256, storage: torch.dtype = torch.float32
) -> torch.Tensor:
    """The generator's deterministic output for ``x``, computed layer by layer over tiles.

    Args:
        generator: The network (eval mode; dropout is not applied).
        x: Input in [-1, 1], H and W multiples of 4 and at least 8 (as for the network).
        tile: Side of the output tiles of every convolution.
        storage: dtype of the stored layer outputs (float16 halves the memory).

    Shape:
        - x: :math:`(1, 3, H, W)` on the network's device (CPU or CUDA: the
          statistics are float64); output the same shape, float32.
    """
    if x.shape[0] != 1:
        raise ValueError("tiled inference takes one image at a time")
    size = tuple(x.shape[-2:])
    read: Reader = lambda y0, y1, x0, x1: x[:, :, y0:y1, x0:x1].float()  # noqa: E731

    def stage(conv: nn.Module, read: Reader, size: tuple[int, int]):
        run = _conv_transpose_tiled if isinstance(conv, nn.ConvTranspose2d) else _conv_tiled
        buffer, stats = run(conv, read, size, tile, storage)
        return _buffer_reader(buffer, stats, relu=True), tuple(buffer.shape[-2:])

    # The generator's own layer list; only readers are kept, so a buffer is freed as soon
    # as no later layer reads it.
    for layer in generator.layers():
        if layer.kind == "conv_norm_relu":
            read, size = stage(layer.module[0], read, size)
        elif layer.kind == "res_block":
            read = _res_block_tiled(layer.module, read, size, tile, storage)
        elif layer.kind == "tanh_head":
            residual, _ = _conv_tiled(layer.module, read, size, tile, torch.float32)
            read = _buffer_reader(torch.tanh(residual), None, relu=False)
        else:
            raise ValueError(f"tiling has no rule for a {layer.kind!r} layer")
    out = read(0, size[0], 0, size[1])
    if generator.learn_residual:
        out = torch.clamp(x.float() + out, -1.0, 1.0)
    return out


def _res_block_tiled(
    block: nn.Module, read: Reader, size: tuple[int, int], tile: int, storage: torch.dtype
) -> Reader:
    """A ResBlock's output reader. Its buffers live only as long as the reader: kept in loop
    variables instead, three of them stayed alive through the upsampling path (0.8 GB at 4K)."""
    block_input = _materialise(
        read, size, block.conv1.in_channels, storage, block.conv1.weight.device
    )
    hidden_raw, hidden_stats = _conv_tiled(block.conv1, block_input, size, tile, storage)
    hidden = _buffer_reader(hidden_raw, hidden_stats, relu=True)
    raw, raw_stats = _conv_tiled(block.conv2, hidden, size, tile, storage)
    return _buffer_reader(raw, raw_stats, relu=False, skip=block_input)


def _materialise(
    read: Reader, size: tuple[int, int], channels: int, storage: torch.dtype, device: torch.device
) -> Reader:
    """Store a computed activation (a ResBlock's input is needed twice: conv and skip)."""
    height, width = size
    buffer = torch.empty(1, channels, height, width, dtype=storage, device=device)
    step = 512
    for y in range(0, height, step):
        for x in range(0, width, step):
            y1, x1 = min(y + step, height), min(x + step, width)
            buffer[:, :, y:y1, x:x1] = read(y, y1, x, x1).to(storage)
    return _buffer_reader(buffer, None, relu=False)


def tiled_peak_bytes(
    ngf: int, height: int, width: int, storage: torch.dtype, tile: int = 256
) -> int:
    """Approximate peak memory of :func:`tiled_forward` (process included).

    A full-resolution ``ngf``-channel layer output and the half-resolution one it is
    computed from (1.5 units of ``ngf x H x W`` values), plus the float32/float64
    temporaries of one ``4 ngf``-channel tile; calibrated against the peaks that
    ``benchmarks/inference.py`` measures.
    """
    itemsize = torch.empty((), dtype=storage).element_size()
    tile_work = 16 * ngf * tile * tile * 4
    return int(1.5 * ngf * height * width * itemsize) + tile_work + PROCESS_BYTES
