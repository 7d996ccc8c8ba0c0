"""Losses of DeblurGAN (paper section 3.1) and of its ablations, as plain functions.

Critic (WGAN-GP): ``mean D(fake) - mean D(real) + 10 * GP``, where GP is the
mean over samples of ``(||grad_x D(x_hat)||_2 - 1)^2`` at ``x_hat = a * real +
(1 - a) * fake`` with one ``a ~ U(0, 1)`` per sample, and the norm taken over
all of C, H and W of each sample. (The authors' code took the norm over the
channel dimension only, i.e. one norm per pixel, which is not the penalty of
Gulrajani et al.; fixed here.)

Generator: ``-mean D(G(x)) + 100 * content``, the content loss being the MSE
between VGG19 relu3_3 features of ``G(x)`` and of the sharp image.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

Critic = Callable[[torch.Tensor], torch.Tensor]


def gradient_penalty(
    critic: Critic,
    real: torch.Tensor,
    fake: torch.Tensor,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """WGAN-GP penalty on random interpolates of ``real`` and ``fake``.

    Args:
        critic: Maps images to scores (any shape per sample).
        real: Sharp images.
        fake: Restored images (detached from the generator).
        generator: Source of the per-sample interpolation coefficients.

    Returns:
        Scalar ``mean_i (||grad D(x_hat_i)||_2 - 1)^2``, differentiable w.r.t. the critic.

    Shape:
        - real, fake: :math:`(B, C, H, W)`.
    """
    alpha = torch.rand(real.shape[0], 1, 1, 1, generator=generator, device=real.device)
    interpolates = (alpha * real + (1 - alpha) * fake).detach().requires_grad_(True)
    scores = critic(interpolates)
    (grads,) = torch.autograd.grad(scores.sum(), interpolates, create_graph=True)
    norms = grads.flatten(1).norm(dim=1)
    return ((norms - 1.0) ** 2).mean()


def critic_loss(
    gan: str,
    critic: Critic,
    real: torch.Tensor,
    fake: torch.Tensor,
    gp_weight: float = 10.0,
    generator: torch.Generator | None = None,
) -> dict[str, torch.Tensor]:
    """The critic's loss and its parts.

    Args:
        gan: ``"wgan-gp"`` or ``"lsgan"``.

    Returns:
        ``loss`` (to minimise) and, for WGAN-GP, ``wasserstein`` (the estimate
        ``mean D(real) - mean D(fake)``) and ``gp``; for LSGAN ``real`` and ``fake`` terms.
    """
    # One forward pass over real and fake together: InstanceNorm is per sample, so
    # this equals two passes, and a DistributedDataParallel critic sees one call.
    scores = critic(torch.cat([real, fake]))
    real_scores, fake_scores = scores[: real.shape[0]], scores[real.shape[0] :]
    if gan == "wgan-gp":
        wasserstein = real_scores.mean() - fake_scores.mean()
        gp = gradient_penalty(critic, real, fake, generator)
        return {"loss": -wasserstein + gp_weight * gp, "wasserstein": wasserstein, "gp": gp}
    if gan == "lsgan":
        real_term = ((real_scores - 1.0) ** 2).mean()
        fake_term = (fake_scores**2).mean()
        return {"loss": 0.5 * (real_term + fake_term), "real": real_term, "fake": fake_term}
    raise ValueError(f"unknown gan {gan!r}; use wgan-gp or lsgan")


def generator_adversarial_loss(gan: str, critic: Critic, fake: torch.Tensor) -> torch.Tensor:
    """``-mean D(G(x))`` (WGAN-GP) or ``mean (D(G(x)) - 1)^2`` (LSGAN)."""
    if gan == "wgan-gp":
        return -critic(fake).mean()
    if gan == "lsgan":
        return ((critic(fake) - 1.0) ** 2).mean()
    raise ValueError(f"unknown gan {gan!r}; use wgan-gp or lsgan")


def content_loss(
    kind: str,
    restored: torch.Tensor,
    sharp: torch.Tensor,
    features: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> torch.Tensor:
    """Perceptual (MSE of VGG relu3_3 features), L1 or MSE on pixels.

    Args:
        kind: ``"perceptual"``, ``"l1"`` or ``"mse"``.
        features: The frozen feature extractor, required for ``"perceptual"``.
    """
    if kind == "perceptual":
        if features is None:
            raise ValueError("the perceptual loss needs the VGG feature extractor")
        with torch.no_grad():
            target = features(sharp)
        return F.mse_loss(features(restored), target)
    if kind == "l1":
        return F.l1_loss(restored, sharp)
    if kind == "mse":
        return F.mse_loss(restored, sharp)
    raise ValueError(f"unknown content loss {kind!r}; use perceptual, l1 or mse")
