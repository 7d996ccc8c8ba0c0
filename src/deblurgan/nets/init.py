"""Weight initialisation shared by the generator and the critic."""

from __future__ import annotations

import torch
from torch import nn


def init_weights(
    module: nn.Module, std: float = 0.02, generator: torch.Generator | None = None
) -> nn.Module:
    """Draw every (transposed) convolution's weights from N(0, std) and zero its bias.

    This is the paper's (pix2pix) initialisation. Norm layers here carry no
    parameters, so nothing else needs setting.

    Args:
        module: Network to initialise in place.
        std: Standard deviation of the weights.
        generator: Source of randomness; the same seed gives the same weights.

    Returns:
        ``module``, for chaining.
    """
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(layer.weight, 0.0, std, generator=generator)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
    return module
