"""One critic update and one generator update: the GAN training step, written out.

Both functions take everything they use as arguments (the loss settings as one
:class:`~deblurgan.train.config.LossConfig`) and return a dict of float losses;
nothing is stored on the networks between calls.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import torch
from torch import nn

from deblurgan.train.config import LossConfig
from deblurgan.train.losses import content_loss, critic_loss, generator_adversarial_loss


def critic_step(
    generator: nn.Module,
    critic: nn.Module,
    optimizer: torch.optim.Optimizer,
    blurred: torch.Tensor,
    sharp: torch.Tensor,
    *,
    loss: LossConfig,
    rng: torch.Generator,
    autocast: contextlib.AbstractContextManager | None = None,
) -> dict[str, float]:
    """Update the critic once on a fresh batch; the generator only provides fakes.

    Args:
        generator: In training mode (dropout on, drawing from ``rng``).
        critic: The critic (possibly wrapped in DistributedDataParallel).
        optimizer: The critic's optimiser.
        blurred, sharp: A batch in [-1, 1].
        loss: ``gan`` (``"wgan-gp"`` or ``"lsgan"``), ``gp_weight`` and ``gp_variant``
            are used.
        rng: Randomness for dropout and the penalty's interpolation.
        autocast: Mixed-precision context for the forward passes.

    Returns:
        ``critic_loss`` and its parts (``wasserstein``, ``gp`` for WGAN-GP).
    """
    with autocast or contextlib.nullcontext():
        with torch.no_grad():
            fake = generator(blurred, dropout_rng=rng)
        losses = critic_loss(
            loss.gan, critic, sharp, fake.float(), loss.gp_weight, rng, loss.gp_variant
        )
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
    *,
    loss: LossConfig,
    rng: torch.Generator,
    features: Callable[[torch.Tensor], torch.Tensor] | None = None,
    autocast: contextlib.AbstractContextManager | None = None,
) -> dict[str, float]:
    """Update the generator once: adversarial + ``content_weight`` x content loss
    (+ ``pixel_weight`` x L1 on pixels, if set).

    Args:
        critic: The plain critic module (not a DDP wrapper): its parameters are
            frozen for this step, only its input gradient flows.
        loss: ``gan`` (``"none"``: content loss only), ``content`` (``"perceptual"``,
            ``"l1"``, ``"mse"``), ``content_weight`` and ``pixel_weight`` (an extra L1
            term between restored and sharp pixels) are used.
        features: VGG feature extractor for the perceptual loss.

    Returns:
        ``generator_loss``, ``adversarial``, ``content`` (and ``pixel`` if weighted).
    """
    critic.requires_grad_(False)
    try:
        with autocast or contextlib.nullcontext():
            restored = generator(blurred, dropout_rng=rng)
            adversarial = (
                generator_adversarial_loss(loss.gan, critic, restored)
                if loss.gan != "none"
                else restored.new_zeros(())
            )
            content_term = content_loss(loss.content, restored.float(), sharp, features)
            total = adversarial + loss.content_weight * content_term
            if loss.pixel_weight:
                pixel_term = content_loss("l1", restored.float(), sharp)
                total = total + loss.pixel_weight * pixel_term
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        optimizer.step()
    finally:
        critic.requires_grad_(True)
    logs = {
        "generator_loss": total.item(),
        "adversarial": adversarial.item(),
        "content": content_term.item(),
    }
    if loss.pixel_weight:
        logs["pixel"] = pixel_term.item()
    return logs
