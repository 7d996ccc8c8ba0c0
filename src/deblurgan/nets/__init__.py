"""The paper's two networks, the generator and the PatchGAN critic, and the table of
generator architectures.

The names below are imported on first use (PEP 562), so that
``deblurgan.nets.architectures`` (the table the training configuration checks names
against) loads without PyTorch.
"""

from __future__ import annotations

from deblurgan.lazy import lazy_exports

# public name -> module that defines it
_EXPORTS = {
    "ARCHITECTURES": "deblurgan.nets.architectures",
    "build_generator": "deblurgan.nets.architectures",
    "Critic": "deblurgan.nets.critic",
    "patch_receptive_field": "deblurgan.nets.critic",
    "ConvNormAct": "deblurgan.nets.blocks",
    "ResBlock": "deblurgan.nets.blocks",
    "TanhConv": "deblurgan.nets.blocks",
    "seeded_dropout": "deblurgan.nets.blocks",
    "Generator": "deblurgan.nets.generator",
    "NAFNet": "deblurgan.nets.nafnet",
    "init_weights": "deblurgan.nets.init",
    "TilingError": "deblurgan.nets.tiling",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
