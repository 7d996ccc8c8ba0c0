"""Generator architectures by name: the table that checkpoints and training build from.

:data:`ARCHITECTURES` maps a name to the class that defines it, written as
``"module.Class"`` and imported on first use, so that the training configuration can
check a name without loading PyTorch. A checkpoint stores the name beside the
constructor arguments; files written before names existed hold the ``"resnet"``
generator (:data:`DEFAULT_ARCHITECTURE`).

An architecture class is an ``nn.Module`` whose constructor arguments are its
configuration (kept as ``self.config``, a JSON-able dict) and which provides what
inference needs without knowing the class:

- ``forward(x, dropout_rng=None)``: images in [-1, 1] to images in [-1, 1];
- ``size_multiple`` and ``min_side``: the input sides it accepts (inference pads to them);
- ``full_resolution_channels``: the width of its widest full-resolution activation, the
  unit of the memory estimates that decide when to tile;
- optionally ``layers()`` and ``finish(x, residual)``, each layer with a ``tiling_rule()``
  (:mod:`deblurgan.nets.tiling`), for exact tiled inference;
- for training: the keyword arguments ``ngf``, ``n_blocks``, ``dropout`` and
  ``learn_residual`` (:class:`~deblurgan.train.config.ModelConfig`), and a ``head``
  convolution for ``identity_init``.

Examples:
    >>> architecture_class("resnet").__name__
    'Generator'
    >>> check_architecture("unet")
    Traceback (most recent call last):
    ...
    ValueError: unknown architecture 'unet'; the choices are: nafnet, resnet
"""

from __future__ import annotations

import importlib
from typing import Any

ARCHITECTURES: dict[str, str] = {
    "resnet": "deblurgan.nets.generator.Generator",  # the paper's (section 3.2, Figure 3)
    "nafnet": "deblurgan.nets.nafnet.NAFNet",  # a NAFNet-style U-Net (Chen et al. 2022)
}
DEFAULT_ARCHITECTURE = "resnet"
# The constructor arguments every architecture takes, as a training run's model settings
# (``model.*``) name them.
GENERATOR_ARGUMENTS = ("ngf", "n_blocks", "dropout", "learn_residual")


def check_architecture(name: str) -> str:
    """Return ``name`` if :data:`ARCHITECTURES` has it.

    Raises:
        ValueError: Naming the unknown architecture and the choices.
    """
    if name not in ARCHITECTURES:
        raise ValueError(
            f"unknown architecture {name!r}; the choices are: {', '.join(sorted(ARCHITECTURES))}"
        )
    return name


def architecture_class(name: str) -> type:
    """The class :data:`ARCHITECTURES` names ``name`` (imported now).

    Raises:
        ValueError: ``name`` is not in the table.
    """
    module, _, cls = ARCHITECTURES[check_architecture(name)].rpartition(".")
    return getattr(importlib.import_module(module), cls)


def architecture_name(network: Any) -> str:
    """The table's name for ``network``'s class.

    Raises:
        ValueError: The class is not in :data:`ARCHITECTURES`, so a checkpoint of it could
            not be loaded back.
    """
    cls = type(network)
    path = f"{cls.__module__}.{cls.__qualname__}"
    for name, defined_at in ARCHITECTURES.items():
        if defined_at == path:
            return name
    raise ValueError(
        f"{path} is not in the architecture table (deblurgan.nets.architectures.ARCHITECTURES: "
        f"{', '.join(f'{k} = {v}' for k, v in sorted(ARCHITECTURES.items()))})"
    )


def build_generator(name: str, config: dict[str, Any]) -> Any:
    """A new network of architecture ``name`` with constructor arguments ``config``.

    Raises:
        ValueError: Unknown ``name``.
        TypeError: ``config`` does not fit the class's constructor.
    """
    return architecture_class(name)(**config)
