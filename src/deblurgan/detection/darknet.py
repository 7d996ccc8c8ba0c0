"""Darknet networks (the layer types YOLOv3-tiny uses) in PyTorch, from ``.cfg`` and ``.weights``.

Supported sections: ``[net]``, ``[convolutional]`` (batch norm, leaky/linear),
``[maxpool]`` (including Darknet's stride-1 pool, which pads right and
bottom), ``[upsample]``, ``[route]`` and ``[yolo]``. The weights file is a
header (major, minor, revision, images seen) followed, for each convolution in
order, by the batch-norm bias, scale, running mean and running variance (or
the conv bias when there is no batch norm) and then the conv weights.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class DarknetError(ValueError):
    """A cfg or weights file cannot be read or does not match."""


def parse_cfg(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Sections of a Darknet cfg as dicts with a ``type`` key; values kept as strings."""
    sections: list[dict[str, Any]] = []
    for number, raw in enumerate(Path(path).read_text().splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("["):
            if not line.endswith("]"):
                raise DarknetError(f"{path}:{number}: malformed section header {raw!r}")
            sections.append({"type": line[1:-1].strip()})
        elif "=" in line and sections:
            key, value = (part.strip() for part in line.split("=", 1))
            sections[-1][key] = value
        else:
            raise DarknetError(f"{path}:{number}: expected KEY=VALUE or [section], got {raw!r}")
    if not sections or sections[0]["type"] != "net":
        raise DarknetError(f"{path}: a Darknet cfg starts with a [net] section")
    return sections


class YoloLayer(nn.Module):
    """Decodes one detection head into boxes in input-image pixels.

    Shape:
        - Input: :math:`(B, A (5 + C), H, W)`.
        - Output: :math:`(B, A H W, 5 + C)`: centre x, centre y, width, height,
          objectness, class probabilities.
    """

    def __init__(self, anchors: list[tuple[float, float]], classes: int) -> None:
        super().__init__()
        self.classes = classes
        self.register_buffer(
            "anchors", torch.tensor(anchors, dtype=torch.float32), persistent=False
        )

    def forward(self, x: torch.Tensor, input_size: tuple[int, int]) -> torch.Tensor:
        """Decode one scale's raw output into boxes in input pixels.

        Shape:
            - x: :math:`(B, A (5 + C), H, W)`; output :math:`(B, A H W, 5 + C)`: centre x, y,
              width, height, objectness and class scores.
        """
        b, _, h, w = x.shape
        a = self.anchors.shape[0]
        p = x.view(b, a, 5 + self.classes, h, w).permute(0, 1, 3, 4, 2)
        gy, gx = torch.meshgrid(
            torch.arange(h, device=x.device), torch.arange(w, device=x.device), indexing="ij"
        )
        cx = (torch.sigmoid(p[..., 0]) + gx) * (input_size[1] / w)
        cy = (torch.sigmoid(p[..., 1]) + gy) * (input_size[0] / h)
        bw = torch.exp(p[..., 2]) * self.anchors[:, 0].view(1, a, 1, 1)
        bh = torch.exp(p[..., 3]) * self.anchors[:, 1].view(1, a, 1, 1)
        rest = torch.sigmoid(p[..., 4:])
        return torch.cat([torch.stack([cx, cy, bw, bh], -1), rest], -1).reshape(b, a * h * w, -1)


class Darknet(nn.Module):
    """A Darknet detector built from parsed cfg sections.

    Shape:
        - Input: :math:`(B, 3, H, W)`, RGB in [0, 1], H and W multiples of 32.
        - Output: :math:`(B, N, 5 + C)` from all YOLO heads (see :class:`YoloLayer`).
    """

    def __init__(self, sections: list[dict[str, Any]]) -> None:
        super().__init__()
        net, *layers = sections
        self.input_size = (int(net.get("height", 416)), int(net.get("width", 416)))
        self.sections = layers
        self.layers = nn.ModuleList()
        channels = [int(net.get("channels", 3))]  # output channels of each layer; [-1] = last
        out_channels: list[int] = []
        for i, s in enumerate(layers):
            kind = s["type"]
            previous = out_channels[-1] if out_channels else channels[0]
            if kind == "convolutional":
                filters, size, stride = int(s["filters"]), int(s["size"]), int(s.get("stride", 1))
                bn = int(s.get("batch_normalize", 0))
                pad = (size - 1) // 2 if int(s.get("pad", 0)) else 0
                block = nn.Sequential()
                block.add_module(
                    "conv", nn.Conv2d(previous, filters, size, stride, pad, bias=not bn)
                )
                if bn:
                    block.add_module("bn", nn.BatchNorm2d(filters, momentum=0.01, eps=1e-5))
                if s.get("activation", "linear") == "leaky":
                    block.add_module("leaky", nn.LeakyReLU(0.1))
                elif s.get("activation", "linear") != "linear":
                    raise DarknetError(f"layer {i}: unsupported activation {s['activation']!r}")
                self.layers.append(block)
                out_channels.append(filters)
            elif kind == "maxpool":
                size, stride = int(s["size"]), int(s.get("stride", 1))
                pool = nn.Sequential()
                if stride == 1:  # Darknet keeps the size: pad right and bottom
                    pool.add_module("pad", nn.ZeroPad2d((0, size - 1, 0, size - 1)))
                pool.add_module("pool", nn.MaxPool2d(size, stride))
                self.layers.append(pool)
                out_channels.append(previous)
            elif kind == "upsample":
                self.layers.append(
                    nn.Upsample(scale_factor=int(s.get("stride", 2)), mode="nearest")
                )
                out_channels.append(previous)
            elif kind == "route":
                sources = [self._absolute(int(v), i) for v in s["layers"].split(",")]
                s["_sources"] = sources
                self.layers.append(nn.Identity())
                out_channels.append(sum(out_channels[j] for j in sources))
            elif kind == "yolo":
                anchors = [float(v) for v in s["anchors"].split(",")]
                pairs = [
                    (anchors[2 * m], anchors[2 * m + 1]) for m in map(int, s["mask"].split(","))
                ]
                self.layers.append(YoloLayer(pairs, int(s["classes"])))
                out_channels.append(previous)
            else:
                raise DarknetError(f"layer {i}: unsupported section [{kind}]")

    @staticmethod
    def _absolute(index: int, current: int) -> int:
        return current + index if index < 0 else index

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The detections of all YOLO heads for a batch of RGB images in [0, 1].

        Shape:
            - x: :math:`(B, 3, H, W)`, sides multiples of 32; output :math:`(B, N, 5 + C)`.
        """
        size = tuple(x.shape[-2:])
        outputs: list[torch.Tensor] = []
        detections = []
        for section, layer in zip(self.sections, self.layers):
            if section["type"] == "route":
                x = torch.cat([outputs[j] for j in section["_sources"]], dim=1)
            elif section["type"] == "yolo":
                detections.append(layer(x, size))
            else:
                x = layer(x)
            outputs.append(x)
        return torch.cat(detections, dim=1)


def load_darknet(cfg: str | os.PathLike, weights: str | os.PathLike) -> tuple[Darknet, int]:
    """Build the network of ``cfg`` and fill it from a Darknet ``.weights`` file.

    Returns:
        The network in eval mode and the number of float values read.

    Raises:
        DarknetError: The weights file is shorter or longer than the cfg needs.
    """
    model = Darknet(parse_cfg(cfg))
    data = Path(weights).read_bytes()
    major, minor, _ = np.frombuffer(data[:12], dtype=np.int32)
    offset = 12 + (8 if major * 10 + minor >= 2 else 4)
    values = np.frombuffer(data[offset:], dtype=np.float32)
    position = 0

    def take(tensor: torch.Tensor) -> None:
        nonlocal position
        count = tensor.numel()
        if position + count > values.size:
            raise DarknetError(f"{weights}: ends after {values.size} values; the cfg needs more")
        tensor.copy_(torch.from_numpy(values[position : position + count].copy()).view_as(tensor))
        position += count

    with torch.no_grad():
        for section, layer in zip(model.sections, model.layers):
            if section["type"] != "convolutional":
                continue
            if hasattr(layer, "bn"):
                for tensor in (
                    layer.bn.bias,
                    layer.bn.weight,
                    layer.bn.running_mean,
                    layer.bn.running_var,
                ):
                    take(tensor)
            else:
                take(layer.conv.bias)
            take(layer.conv.weight)
    if position != values.size:
        raise DarknetError(f"{weights}: {values.size - position} values left over; wrong cfg?")
    return model.eval(), position


def letterbox(
    image: torch.Tensor, size: tuple[int, int]
) -> tuple[torch.Tensor, float, tuple[int, int]]:
    """Resize keeping the aspect ratio and pad with gray (0.5) to ``size``, as Darknet does.

    Returns:
        The padded image, the scale, and the ``(top, left)`` padding.

    Shape:
        - image: :math:`(3, H, W)` in [0, 1]; output :math:`(3, size_h, size_w)`.
    """
    height, width = image.shape[-2:]
    scale = min(size[0] / height, size[1] / width)
    new_h, new_w = max(1, round(height * scale)), max(1, round(width * scale))
    resized = F.interpolate(image[None], size=(new_h, new_w), mode="bilinear", align_corners=False)[
        0
    ]
    top, left = (size[0] - new_h) // 2, (size[1] - new_w) // 2
    canvas = torch.full((3, *size), 0.5, dtype=image.dtype)
    canvas[:, top : top + new_h, left : left + new_w] = resized
    return canvas, scale, (top, left)
