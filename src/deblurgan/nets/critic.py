"""The DeblurGAN critic: an unconditional PatchGAN (paper section 3.2).

It scores overlapping 70x70 patches of a sharp or restored image with an
unbounded real number (no sigmoid: it is a Wasserstein critic).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

KERNEL_SIZE = 4
PADDING = 2  # ceil((KERNEL_SIZE - 1) / 2), as in the authors' code


def patch_receptive_field(n_layers: int = 3) -> int:
    """Side of the input window that one critic output sees.

    The critic has ``n_layers`` stride-2 convolutions followed by two stride-1
    convolutions, all 4x4. Walking back from one output unit, each layer grows
    the window to ``(r - 1) * stride + kernel``.

    Examples:
        >>> patch_receptive_field(3)
        70
    """
    strides = [2] * n_layers + [1, 1]
    field = 1
    for stride in reversed(strides):
        field = (field - 1) * stride + KERNEL_SIZE
    return field


class Critic(nn.Module):
    """PatchGAN critic with ``n_layers`` downsampling convolutions.

    Every convolution but the first and the last is followed by InstanceNorm;
    all but the last by LeakyReLU(0.2). Channels double per layer up to
    ``8 * ndf``. The default (``ndf=64, n_layers=3``) has 2,764,737 parameters
    and a 70x70 receptive field.

    Args:
        in_channels: Input channels.
        ndf: Width of the first layer.
        n_layers: Number of stride-2 convolutions.

    Shape:
        - Input: :math:`(B, C_{in}, H, W)`.
        - Output: :math:`(B, 1, H', W')`, one score per patch.
    """

    def __init__(self, in_channels: int = 3, ndf: int = 64, n_layers: int = 3) -> None:
        super().__init__()
        if min(in_channels, ndf, n_layers) < 1:
            raise ValueError(
                f"in_channels, ndf and n_layers must be >= 1, got {in_channels}, {ndf}, {n_layers}"
            )
        self.config: dict[str, Any] = {"in_channels": in_channels, "ndf": ndf, "n_layers": n_layers}
        widths = [ndf * min(2**i, 8) for i in range(n_layers + 1)]
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, widths[0], KERNEL_SIZE, stride=2, padding=PADDING),
            nn.LeakyReLU(0.2, inplace=True),
        ]
        for i in range(1, n_layers + 1):
            stride = 2 if i < n_layers else 1
            layers += [
                nn.Conv2d(widths[i - 1], widths[i], KERNEL_SIZE, stride=stride, padding=PADDING),
                nn.InstanceNorm2d(widths[i]),
                nn.LeakyReLU(0.2, inplace=True),
            ]
        layers.append(nn.Conv2d(widths[-1], 1, KERNEL_SIZE, stride=1, padding=PADDING))
        self.layers = nn.Sequential(*layers)

    @property
    def receptive_field(self) -> int:
        """Side in pixels of the input patch behind each output score."""
        return patch_receptive_field(self.config["n_layers"])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Scores in the weights' precision (float32), also under autocast: the last
        (one-channel) convolution runs outside autocast, so that scores of sharp and restored
        images that differ by less than a bf16 step stay apart."""
        features, last = self.layers[:-1](x), self.layers[-1]
        with torch.autocast(x.device.type, enabled=False):
            return last(features.to(last.weight.dtype))
