"""Losses of DeblurGAN (paper section 3.1) and of its ablations, as plain functions.

Critic (WGAN-GP): ``mean D(fake) - mean D(real) + 10 * GP``. The PatchGAN
critic scores every patch; the loss uses the per-sample score ``s(x)``, the
mean over its patches. GP is the mean over samples of
``(||grad_x s(x_hat)||_2 - 1)^2`` at ``x_hat = a * real + (1 - a) * fake``,
with one ``a ~ U(0, 1)`` per sample and the norm over all of C, H and W: the
penalty of Gulrajani et al. on exactly the function the loss uses, whatever
the number of patches.

The authors' code differentiated the *sum* over patches and took one norm
per pixel (over channels only); ``gp_variant="authors"`` reproduces it for
comparisons. Penalising the gradient of the sum with a whole-sample norm (an
earlier version of this package) bounds the loss's critic by about 1 / P for
P patches, and such a critic cannot learn.

Generator: ``-mean D(G(x)) + 100 * content``, the content loss being the MSE
between VGG19 relu3_3 features of ``G(x)`` and of the sharp image.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

Critic = Callable[[torch.Tensor], torch.Tensor]
GP_VARIANTS = ("sample", "authors")


def sample_scores(scores: torch.Tensor) -> torch.Tensor:
    """Per-sample critic score: the float32 mean over patches (any shape per sample).

    Shape:
        - scores: :math:`(B, ...)`.
        - Output: :math:`(B,)`.
    """
    return scores.float().reshape(scores.shape[0], -1).mean(1)


def gradient_penalty(
    critic: Critic,
    real: torch.Tensor,
    fake: torch.Tensor,
    generator: torch.Generator | None = None,
    variant: str = "sample",
) -> torch.Tensor:
    """WGAN-GP penalty on random interpolates of ``real`` and ``fake``.

    Args:
        critic: Maps images to scores (any shape per sample, e.g. one per patch).
        real: Sharp images.
        fake: Restored images (detached from the generator).
        generator: Source of the per-sample interpolation coefficients.
        variant: ``"sample"``: the gradient of the per-sample score
            (:func:`sample_scores`, the function the loss uses), norm over C, H, W.
            ``"authors"``: the authors' code, the gradient of the sum over patches
            with one norm per pixel over channels, averaged over pixels and samples.

    Returns:
        Scalar ``mean_i (||grad s(x_hat_i)||_2 - 1)^2``, differentiable w.r.t. the critic.

    Shape:
        - real, fake: :math:`(B, C, H, W)`.
    """
    if variant not in GP_VARIANTS:
        raise ValueError(f"unknown gradient-penalty variant {variant!r}; use sample or authors")
    alpha = torch.rand(real.shape[0], 1, 1, 1, generator=generator, device=real.device)
    interpolates = (alpha * real + (1 - alpha) * fake).detach().requires_grad_(True)
    scores = critic(interpolates)
    if variant == "authors":
        (grads,) = torch.autograd.grad(scores.float().sum(), interpolates, create_graph=True)
        return ((grads.norm(dim=1) - 1.0) ** 2).mean()
    (grads,) = torch.autograd.grad(sample_scores(scores).sum(), interpolates, create_graph=True)
    return ((grads.flatten(1).norm(dim=1) - 1.0) ** 2).mean()


def critic_loss(
    gan: str,
    critic: Critic,
    real: torch.Tensor,
    fake: torch.Tensor,
    gp_weight: float = 10.0,
    generator: torch.Generator | None = None,
    gp_variant: str = "sample",
) -> dict[str, torch.Tensor]:
    """The critic's loss and its parts, computed in float32 (also under autocast).

    Args:
        gan: ``"wgan-gp"`` or ``"lsgan"``.
        gp_variant: See :func:`gradient_penalty`.

    Returns:
        ``loss`` (to minimise) and, for WGAN-GP, ``wasserstein`` (the estimate
        ``mean D(real) - mean D(fake)``) and ``gp``; for LSGAN ``real`` and ``fake`` terms.
    """
    # One forward pass over real and fake together: InstanceNorm is per sample, so
    # this equals two passes, and a DistributedDataParallel critic sees one call.
    scores = critic(torch.cat([real, fake])).float()
    real_scores, fake_scores = scores[: real.shape[0]], scores[real.shape[0] :]
    if gan == "wgan-gp":
        wasserstein = real_scores.mean() - fake_scores.mean()
        gp = gradient_penalty(critic, real, fake, generator, gp_variant)
        return {"loss": -wasserstein + gp_weight * gp, "wasserstein": wasserstein, "gp": gp}
    if gan == "lsgan":
        real_term = ((real_scores - 1.0) ** 2).mean()
        fake_term = (fake_scores**2).mean()
        return {"loss": 0.5 * (real_term + fake_term), "real": real_term, "fake": fake_term}
    raise ValueError(f"unknown gan {gan!r}; use wgan-gp or lsgan")


def generator_adversarial_loss(gan: str, critic: Critic, fake: torch.Tensor) -> torch.Tensor:
    """``-mean D(G(x))`` (WGAN-GP) or ``mean (D(G(x)) - 1)^2`` (LSGAN)."""
    if gan == "wgan-gp":
        return -critic(fake).float().mean()
    if gan == "lsgan":
        return ((critic(fake).float() - 1.0) ** 2).mean()
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
