"""What a layer must tell exact tiled inference: its tiling rule, in a small vocabulary.

Exact tiled inference (:func:`deblurgan.inference.tiled.tiled_forward`) cannot run a
layer's ``forward`` on a tile: instance normalisation needs the statistics of the whole
image. Instead each layer kind describes itself, beside its definition, as
:class:`ConvStage` items (a convolution, then optional instance normalisation over the
whole image, then an optional pointwise activation) or a :class:`ResidualStages` (stages
whose output is added to their input). The constructors check what they are given, so a
layer built from something tiling cannot reproduce raises :class:`TilingError` instead
of tiling to a different result; the tiler also compares each layer's rule with its
``forward`` on a small input before use.
"""

from __future__ import annotations

import dataclasses

from torch import nn

# Activations that act on every value alone (per channel at most): applying them to a
# tile gives the values they give on the whole image.
POINTWISE = (
    nn.ReLU,
    nn.LeakyReLU,
    nn.PReLU,
    nn.ReLU6,
    nn.ELU,
    nn.SELU,
    nn.GELU,
    nn.SiLU,
    nn.Mish,
    nn.Sigmoid,
    nn.Tanh,
    nn.Hardtanh,
    nn.Identity,
)


class TilingError(ValueError):
    """A layer cannot be computed exactly tile by tile, or its rule does not match it."""


@dataclasses.dataclass(frozen=True)
class ConvStage:
    """A convolution, then instance normalisation over the whole image, then an activation.

    Attributes:
        conv: The convolution (its weights, bias, stride and padding are used, never its
            ``forward``).
        norm: ``nn.InstanceNorm2d`` without running statistics (affine or not), or None.
        activation: A pointwise module (one of :data:`POINTWISE`), or None.

    Raises:
        TilingError: A part is of a kind tiling cannot reproduce exactly.
    """

    conv: nn.Conv2d | nn.ConvTranspose2d
    norm: nn.InstanceNorm2d | None = None
    activation: nn.Module | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.conv, (nn.Conv2d, nn.ConvTranspose2d)):
            raise TilingError(
                f"a tiled stage starts with a Conv2d or ConvTranspose2d, "
                f"not {type(self.conv).__name__}"
            )
        if self.norm is not None and (
            type(self.norm) is not nn.InstanceNorm2d or self.norm.track_running_stats
        ):
            raise TilingError(
                "tiling normalises with the whole image's statistics: it reproduces "
                "nn.InstanceNorm2d without running statistics, not "
                f"{self.norm!r}"
            )
        if self.activation is not None and type(self.activation) not in POINTWISE:
            raise TilingError(
                f"tiling applies activations tile by tile: {self.activation!r} is not "
                f"among the pointwise ones ({', '.join(t.__name__ for t in POINTWISE)})"
            )

    @property
    def in_channels(self) -> int:
        """Channels the stage reads."""
        return self.conv.in_channels


@dataclasses.dataclass(frozen=True)
class ResidualStages:
    """Stages run in sequence whose result is added to their input: ``x + stages(x)``.

    Attributes:
        stages: The stages; the last one's activation comes before the addition.
    """

    stages: tuple[ConvStage, ...]

    def __post_init__(self) -> None:
        if not self.stages:
            raise TilingError("a residual rule needs at least one stage")

    @property
    def in_channels(self) -> int:
        """Channels the rule reads (and writes)."""
        return self.stages[0].in_channels


TilingRule = ConvStage | ResidualStages
