"""One critic update and one generator update: the GAN training step, written out.

Both functions take everything they use as arguments and return a dict of
float losses; nothing is stored on the networks between calls.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import torch
from torch import nn

from deblurgan.train.losses import content_loss, critic_loss, generator_adversarial_loss


def critic_step(
    generator: nn.Module,
    critic: nn.Module,
    optimizer: torch.optim.Optimizer,
    blurred: torch.Tensor,
    sharp: torch.Tensor,
    gan: str,
    gp_weight: float,
    rng: torch.Generator,
    autocast: contextlib.AbstractContextManager | None = None,
    gp_variant: str = "sample",
) -> dict[str, float]:
    """Update the critic once on a fresh batch; the generator only provides fakes.

    Args:
        generator: In training mode (dropout on, drawing from ``rng``).
        critic: The critic (possibly wrapped in DistributedDataParallel).
        optimizer: The critic's optimiser.
        blurred, sharp: A batch in [-1, 1].
        gan: ``"wgan-gp"`` or ``"lsgan"``.
        gp_weight: Weight of the gradient penalty.
        rng: Randomness for dropout and the penalty's interpolation.
        autocast: Mixed-precision context for the forward passes.
        gp_variant: The gradient penalty's variant (see ``gradient_penalty``).

    Returns:
        ``critic_loss`` and its parts (``wasserstein``, ``gp`` for WGAN-GP).
    """
    with autocast or contextlib.nullcontext():
        with torch.no_grad():
            fake = generator(blurred, dropout_rng=rng)
        losses = critic_loss(gan, critic, sharp, fake.float(), gp_weight, rng, gp_variant)
    optimizer.zero_grad(set_to_none=True)
    losses["loss"].backward()
    optimizer.step()
    return {("critic_loss" if k == "loss" else k): v.item() for k, v in losses.items()}


def generator_step(
    generator: nn.Module,
    critic: nn.Module,
    optimizer: torch.optim.Optimizer,
    blurred: torch.Tensor,
    sharp: torch.Tensor,
    gan: str,
    content: str,
    content_weight: float,
    rng: torch.Generator,
    features: Callable[[torch.Tensor], torch.Tensor] | None = None,
    autocast: contextlib.AbstractContextManager | None = None,
    pixel_weight: float = 0.0,
) -> dict[str, float]:
    """Update the generator once: adversarial + ``content_weight`` x content loss
    (+ ``pixel_weight`` x L1 on pixels, if set).

    Args:
        critic: The plain critic module (not a DDP wrapper): its parameters are
            frozen for this step, only its input gradient flows.
        gan: ``"wgan-gp"``, ``"lsgan"`` or ``"none"`` (content loss only).
        content: ``"perceptual"``, ``"l1"`` or ``"mse"``.
        features: VGG feature extractor for the perceptual loss.
        pixel_weight: Weight of an extra L1 term between restored and sharp pixels.

    Returns:
        ``generator_loss``, ``adversarial``, ``content`` (and ``pixel`` if weighted).
    """
    critic.requires_grad_(False)
    try:
        with autocast or contextlib.nullcontext():
            restored = generator(blurred, dropout_rng=rng)
            adversarial = (
                generator_adversarial_loss(gan, critic, restored)
                if gan != "none"
                else restored.new_zeros(())
            )
            content_term = content_loss(content, restored.float(), sharp, features)
            loss = adversarial + content_weight * content_term
            if pixel_weight:
                pixel_term = content_loss("l1", restored.float(), sharp)
                loss = loss + pixel_weight * pixel_term
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    finally:
        critic.requires_grad_(True)
    logs = {
        "generator_loss": loss.item(),
        "adversarial": adversarial.item(),
        "content": content_term.item(),
    }
    if pixel_weight:
        logs["pixel"] = pixel_term.item()
    return logs
