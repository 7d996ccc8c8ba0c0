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

What each layer computes is not restated here: every layer kind says it beside its
definition (``tiling_rule()``, :mod:`deblurgan.nets.tiling`), and :func:`tiling_rules`
checks each rule against its layer's own ``forward`` on a small input before an image is
tiled, so a changed layer either tiles exactly or raises :class:`TilingError`.

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

from deblurgan.inference.policy import PROCESS_BYTES
from deblurgan.nets.tiling import ConvStage, ResidualStages, TilingError, TilingRule

__all__ = ["TilingError", "tiled_forward", "tiled_peak_bytes", "tiling_rules"]

Reader = Callable[[int, int, int, int], torch.Tensor]  # (y0, y1, x0, x1) -> (1, C, y1-y0, x1-x0)
# Each layer's rule is checked against its forward() on a small random input, tiled finely
# (several tiles, partial ones at the edges) before an image is tiled with it.
PROBE_SIDE, PROBE_TILE = 8, 3


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

    def mean_and_scale(self, eps: float) -> tuple[torch.Tensor, torch.Tensor]:
        mean = self.total / self.count
        var = (self.squares / self.count - mean * mean).clamp_min(0)
        return mean.float().view(1, -1, 1, 1), (1.0 / torch.sqrt(var + eps)).float().view(
            1, -1, 1, 1
        )


def _buffer_reader(
    buffer: torch.Tensor,
    stats: _Stats | None = None,
    norm: nn.InstanceNorm2d | None = None,
    activation: nn.Module | None = None,
    skip: Reader | None = None,
) -> Reader:
    """Read a region of a stored convolution output, normalised with the whole image's
    statistics, activated and plus a skip, on the fly, as a :class:`ConvStage` says."""
    if norm is not None:
        mean, scale = stats.mean_and_scale(norm.eps)
        if norm.affine:
            weight, bias = (p.detach().float().view(1, -1, 1, 1) for p in (norm.weight, norm.bias))

    def read(y0: int, y1: int, x0: int, x1: int) -> torch.Tensor:
        x = buffer[:, :, y0:y1, x0:x1].to(torch.float32, copy=True)  # one copy, then in place
        if norm is not None:
            x.sub_(mean).mul_(scale)
            if norm.affine:
                x.mul_(weight).add_(bias)
        if type(activation) is nn.ReLU:
            x.relu_()
        elif activation is not None:
            x = activation(x)
        if skip is not None:
            x.add_(skip(y0, y1, x0, x1))
        return x

    return read


def _check_geometry(conv: nn.Conv2d | nn.ConvTranspose2d) -> None:
    """Raise unless the tilers below handle ``conv``'s geometry."""
    square = all(
        isinstance(v, tuple) and v[0] == v[-1]
        for v in (conv.kernel_size, conv.stride, conv.padding)
    )
    transposed = isinstance(conv, nn.ConvTranspose2d)
    modes = ("zeros",) if transposed else ("zeros", "reflect")
    if not square or conv.dilation != (1, 1) or conv.groups != 1 or conv.padding_mode not in modes:
        raise TilingError(
            f"tiling handles {type(conv).__name__} with square kernel, stride and padding, no "
            f"dilation or groups, {' or '.join(modes)} padding; not {conv!r}"
        )


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
                raise TilingError("output padding beyond the last input's reach is not supported")
            out[:, :, oy:oy1, ox:ox1] = result.to(storage)
            stats.add(result)
    return out, stats


def _stage_tiled(
    stage: ConvStage,
    read: Reader,
    size: tuple[int, int],
    tile: int,
    storage: torch.dtype,
    skip: Reader | None = None,
) -> tuple[Reader, tuple[int, int]]:
    """A :class:`ConvStage`'s output reader and size: the convolution stored tile by tile, the
    normalisation (with the finished statistics) and activation applied when read."""
    run = _conv_transpose_tiled if isinstance(stage.conv, nn.ConvTranspose2d) else _conv_tiled
    buffer, stats = run(stage.conv, read, size, tile, storage)
    reader = _buffer_reader(buffer, stats, stage.norm, stage.activation, skip)
    return reader, tuple(buffer.shape[-2:])


def _rule_tiled(
    rule: TilingRule, read: Reader, size: tuple[int, int], tile: int, storage: torch.dtype
) -> tuple[Reader, tuple[int, int]]:
    """A layer's output reader and size, as its tiling rule says. Buffers live only as long as
    the reader: kept in loop variables instead, three ResBlock buffers stayed alive through
    the upsampling path (0.8 GB at 4K)."""
    if isinstance(rule, ConvStage):
        return _stage_tiled(rule, read, size, tile, storage)
    # ResidualStages: the input is needed twice (the first convolution and the skip)
    block_input = _materialise(read, size, rule.in_channels, storage, rule.stages[0].conv)
    read, in_size = block_input, size
    for i, stage in enumerate(rule.stages):
        last = i == len(rule.stages) - 1
        read, size = _stage_tiled(stage, read, size, tile, storage, block_input if last else None)
    if size != in_size:
        raise TilingError(f"a residual rule must keep the size: {in_size} became {size}")
    return read, size


def _materialise(
    read: Reader, size: tuple[int, int], channels: int, storage: torch.dtype, conv: nn.Module
) -> Reader:
    """Store a computed activation (a residual rule's input is needed twice: conv and skip)."""
    height, width = size
    buffer = torch.empty(1, channels, height, width, dtype=storage, device=conv.weight.device)
    step = 512
    for y in range(0, height, step):
        for x in range(0, width, step):
            y1, x1 = min(y + step, height), min(x + step, width)
            buffer[:, :, y:y1, x:x1] = read(y, y1, x, x1).to(storage)
    return _buffer_reader(buffer)


def tiling_rules(generator: nn.Module) -> list[TilingRule]:
    """Each of ``generator.layers()``'s tiling rules, checked before use.

    A layer's rule comes from its ``tiling_rule()`` (beside the layer, in
    :mod:`deblurgan.nets`); it must use parts tiling reproduces exactly and, tiled finely,
    give the layer's own ``forward()`` output on a small random input (in float32). Layers
    of the same class and description (``repr``: sizes, strides, norms, activations), like
    the paper generator's nine ResBlocks, are compared once.

    Raises:
        TilingError: The network or a layer (named) cannot be tiled exactly.
    """
    if not (callable(getattr(generator, "layers", None)) and hasattr(generator, "finish")):
        raise TilingError(
            f"{type(generator).__name__} has no layers() and finish(): it cannot be tiled; "
            "give it more memory (or no --tile) to run whole images"
        )
    if generator.training:
        raise TilingError("tiled inference runs the network in eval mode: call .eval() first")
    names = {id(module): name for name, module in generator.named_modules()}
    rules, compared = [], set()
    for layer in generator.layers():
        name = f"{names.get(id(layer), '?')} ({type(layer).__name__})"
        if not callable(getattr(layer, "tiling_rule", None)):
            raise TilingError(f"layer {name} has no tiling_rule(): tiling cannot run it")
        try:
            rule = layer.tiling_rule()
            for stage in rule.stages if isinstance(rule, ResidualStages) else (rule,):
                _check_geometry(stage.conv)
        except TilingError as err:
            raise TilingError(f"layer {name}: {err}") from err
        kind = (type(layer), repr(layer))
        if kind not in compared:
            difference = _rule_error(layer, rule)
            if not difference <= 1e-4:
                raise TilingError(
                    f"layer {name}: its tiling_rule() does not reproduce its forward() "
                    f"(relative difference {difference:.3g} on a test input); tiling would "
                    "change the result"
                )
            compared.add(kind)
        rules.append(rule)
    return rules


def _rule_error(layer: nn.Module, rule: TilingRule) -> float:
    """Largest difference between ``layer`` and its rule tiled finely, on a random input,
    relative to the output's largest value (plus 1)."""
    device = next(layer.parameters()).device
    probe = torch.randn(
        1, rule.in_channels, PROBE_SIDE, PROBE_SIDE, generator=torch.Generator().manual_seed(0)
    ).to(device)
    with torch.autocast(device.type, enabled=False):
        expected = layer(probe).float()
        read, size = _rule_tiled(
            rule, _tensor_reader(probe), (PROBE_SIDE, PROBE_SIDE), PROBE_TILE, torch.float32
        )
        tiled = read(0, size[0], 0, size[1])
    if tiled.shape != expected.shape:
        return math.inf
    return float((tiled - expected).abs().max() / (1 + expected.abs().max()))


def _tensor_reader(x: torch.Tensor) -> Reader:
    return lambda y0, y1, x0, x1: x[:, :, y0:y1, x0:x1].float()


@torch.no_grad()
def tiled_forward(
    generator: nn.Module, x: torch.Tensor, tile: int = 256, storage: torch.dtype = torch.float32
) -> torch.Tensor:
    """The generator's deterministic output for ``x``, computed layer by layer over tiles.

    The layers and how each is tiled come from the network (``layers()``, ``finish()``,
    each layer's ``tiling_rule()``), checked first by :func:`tiling_rules`.

    Args:
        generator: The network, in eval mode (dropout is not applied).
        x: Input in [-1, 1], H and W multiples of the network's ``size_multiple`` and at
            least its ``min_side``.
        tile: Side of the output tiles of every convolution.
        storage: dtype of the stored layer outputs (float16 halves the memory); the last
            layer's output is stored in float32.

    Raises:
        TilingError: The network or one of its layers cannot be tiled exactly.

    Shape:
        - x: :math:`(1, 3, H, W)` on the network's device (CPU or CUDA: the
          statistics are float64); output the same shape, float32.
    """
    if x.shape[0] != 1:
        raise ValueError("tiled inference takes one image at a time")
    rules = tiling_rules(generator)
    size = tuple(x.shape[-2:])
    read = _tensor_reader(x)
    # only readers are kept, so a buffer is freed as soon as no later layer reads it
    for i, rule in enumerate(rules):
        layer_storage = torch.float32 if i == len(rules) - 1 else storage
        read, size = _rule_tiled(rule, read, size, tile, layer_storage)
    return generator.finish(x.float(), read(0, size[0], 0, size[1]))


def tiled_peak_bytes(
    channels: int, height: int, width: int, storage: torch.dtype, tile: int = 256
) -> int:
    """Approximate peak memory of :func:`tiled_forward` (process included).

    For the paper's generator, ``channels`` being its ``full_resolution_channels``
    (``ngf``): a full-resolution ``channels``-wide layer output and the half-resolution one
    it is computed from (1.5 units of ``channels x H x W`` values), plus the float32/float64
    temporaries of one ``4 channels``-wide tile; calibrated against the peaks that
    ``benchmarks/inference.py`` measures.
    """
    itemsize = torch.empty((), dtype=storage).element_size()
    tile_work = 16 * channels * tile * tile * 4
    return int(1.5 * channels * height * width * itemsize) + tile_work + PROCESS_BYTES
