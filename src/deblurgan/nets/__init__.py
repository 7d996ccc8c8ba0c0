"""The paper's two networks: the generator and the PatchGAN critic."""

from deblurgan.nets.critic import Critic, patch_receptive_field
from deblurgan.nets.generator import Generator, ResBlock, seeded_dropout
from deblurgan.nets.init import init_weights

__all__ = [
    "Critic",
    "Generator",
    "ResBlock",
    "init_weights",
    "patch_receptive_field",
    "seeded_dropout",
]
