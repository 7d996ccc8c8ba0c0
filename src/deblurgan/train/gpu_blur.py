"""Blur synthesised in batches on the training device: camera-shake kernels drawn and
applied by FFT, and dynamic scenes (a moving camera and a moving object) rendered by
``grid_sample``.

The sprint (:mod:`deblurgan.train.sprint`) makes every training pair here, so that the
GPU, not a CPU data loader, sets the pace. All functions take batched float tensors on
any device and an explicit ``torch.Generator`` on that device; light is averaged in
linear light (display gamma 2.2), as in the GoPro recipe and in :mod:`deblurgan.blur`.

The numpy recipe of :mod:`deblurgan.data.recipe` stays the reference for the held-out
synthetic sets; these are its fast relatives for training, not bit-for-bit copies.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

GAMMA = 2.2


def to_linear(x: torch.Tensor) -> torch.Tensor:
    """Display values in [0, 1] to linear light (``x ** 2.2``)."""
    return x.clamp(0, 1).pow(GAMMA)


def to_display(x: torch.Tensor) -> torch.Tensor:
    """Linear light to display values in [0, 1] (``x ** (1 / 2.2)``)."""
    return x.clamp(1e-8, 1).pow(1 / GAMMA)


def _uniform(n: int, low: float, high: float, rng: torch.Generator, device) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, generator=rng, device=device)


def random_kernels(
    n: int,
    size: int,
    rng: torch.Generator,
    length: tuple[float, float] = (2.0, 0.8),
    steps: int = 64,
) -> torch.Tensor:
    """Random camera-shake kernels: smooth random walks with occasional jerks, splatted
    bilinearly on a ``size`` x ``size`` canvas, centred by their centre of mass.

    Args:
        n: Number of kernels.
        size: Canvas side (odd sizes centre exactly).
        rng: Random source; its device is the kernels' device.
        length: The path length's range in pixels: ``(shortest, longest as a fraction of
            size - 2)``; each kernel draws its length uniformly.
        steps: Points along each path.

    Returns:
        Float32 kernels, non-negative, each summing to 1.

    Shape:
        - Output: :math:`(n, size, size)`.
    """
    device = rng.device
    longest = max(length[0], length[1] * (size - 2))
    lengths = _uniform(n, length[0], longest, rng, device)
    # The heading turns smoothly (a random walk of the turning rate), with rare jerks.
    turn_rate = torch.randn(n, 1, generator=rng, device=device) * 0.05
    wobble = torch.cumsum(
        torch.randn(n, steps, generator=rng, device=device)
        * _uniform(n, 0.0, 0.25, rng, device)[:, None],
        dim=1,
    )
    jerks = (torch.rand(n, steps, generator=rng, device=device) < 0.03) * torch.randn(
        n, steps, generator=rng, device=device
    )
    heading = (
        _uniform(n, 0.0, 2 * math.pi, rng, device)[:, None]
        + turn_rate * torch.arange(steps, device=device)
        + wobble
        + torch.cumsum(jerks * 1.5, dim=1)
    )
    step = (lengths / steps)[:, None]
    y = torch.cumsum(step * torch.sin(heading), dim=1)
    x = torch.cumsum(step * torch.cos(heading), dim=1)
    centre = (size - 1) / 2
    y = (y - y.mean(1, keepdim=True) + centre).clamp(0, size - 1.001)
    x = (x - x.mean(1, keepdim=True) + centre).clamp(0, size - 1.001)
    y0, x0 = y.floor(), x.floor()
    fy, fx = y - y0, x - x0
    canvas = torch.zeros(n, size * size, device=device)
    base = y0.long() * size + x0.long()
    for offset, weight in (
        (0, (1 - fy) * (1 - fx)),
        (1, (1 - fy) * fx),
        (size, fy * (1 - fx)),
        (size + 1, fy * fx),
    ):
        canvas.scatter_add_(1, base + offset, weight)
    kernels = canvas.view(n, size, size)
    return kernels / kernels.sum((1, 2), keepdim=True)


def fft_blur(images: torch.Tensor, kernels: torch.Tensor) -> torch.Tensor:
    """Each image convolved with its own kernel, by FFT (circular at the borders).

    The kernel's centre pixel ``(size // 2, size // 2)`` is the origin, so a centred delta
    returns the image unchanged. Crop ``size // 2`` pixels off each side of the result
    to keep only what a linear convolution of a larger image would give.

    Shape:
        - images: :math:`(B, C, H, W)` float; kernels: :math:`(B, k, k)` with ``k <= H, W``.
        - Output: :math:`(B, C, H, W)`, float32.
    """
    height, width = images.shape[-2:]
    k = kernels.shape[-1]
    if k > min(height, width):
        raise ValueError(f"kernel side {k} is larger than the images ({height} x {width})")
    padded = F.pad(kernels.float(), (0, width - k, 0, height - k))
    padded = torch.roll(padded, shifts=(-(k // 2), -(k // 2)), dims=(-2, -1))
    spectrum = torch.fft.rfft2(images.float()) * torch.fft.rfft2(padded)[:, None]
    return torch.fft.irfft2(spectrum, s=(height, width))


def kernel_blur_pairs(
    sharp: torch.Tensor,
    kernel_size: int,
    rng: torch.Generator,
    noise: float = 0.01,
    still: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Camera-shake pairs: each image blurred in linear light by its own random kernel,
    with Gaussian noise of a random level up to ``noise``; a ``kernel_size // 2`` margin
    is cut off both results.

    Args:
        sharp: Display values in [0, 1], with a margin of at least ``kernel_size // 2``.
        kernel_size: Kernel canvas side.
        rng: Random source on ``sharp``'s device.
        noise: Largest noise standard deviation (display units).
        still: Share of the samples left unblurred (a centred delta kernel), so that the
            network learns to leave sharp inputs alone.

    Returns:
        ``(blurred, sharp)``, display values in [0, 1].

    Shape:
        - sharp: :math:`(B, C, H, W)`; outputs :math:`(B, C, H - 2m, W - 2m)`, ``m = k // 2``.
    """
    kernels = random_kernels(sharp.shape[0], kernel_size, rng)
    if still > 0:
        delta = torch.zeros_like(kernels[0])
        delta[kernel_size // 2, kernel_size // 2] = 1
        keep = torch.rand(len(kernels), 1, 1, generator=rng, device=kernels.device) < still
        kernels = torch.where(keep, delta, kernels)
    blurred = to_display(fft_blur(to_linear(sharp), kernels))
    m = kernel_size // 2
    blurred, sharp = _inner(blurred, m), _inner(sharp, m)
    return _noisy(blurred, noise, rng), sharp


def _inner(x: torch.Tensor, m: int) -> torch.Tensor:
    return x[..., m : x.shape[-2] - m, m : x.shape[-1] - m] if m else x


def _noisy(x: torch.Tensor, noise: float, rng: torch.Generator) -> torch.Tensor:
    sigma = torch.rand(x.shape[0], 1, 1, 1, generator=rng, device=x.device) * noise
    return (x + sigma * torch.randn(x.shape, generator=rng, device=x.device)).clamp(0, 1)


def _affine(shift: torch.Tensor, angle: torch.Tensor, zoom: torch.Tensor) -> torch.Tensor:
    """``(N, 2, 3)`` matrices for ``affine_grid``: rotate by ``angle``, scale by ``zoom`` and
    shift by ``shift`` (in normalised units of the output)."""
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    row0 = torch.stack([cos, -sin, shift[:, 0]], dim=1)
    row1 = torch.stack([sin, cos, shift[:, 1]], dim=1)
    return torch.stack([row0, row1], dim=1)


def scene_blur_pairs(
    sharp: torch.Tensor,
    foreground: torch.Tensor,
    rng: torch.Generator,
    frames: int = 9,
    margin: int = 16,
    max_motion: float = 0.12,
    noise: float = 0.01,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Dynamic-scene pairs: a camera path (shift, roll, zoom) over ``sharp`` and an object
    cut from ``foreground`` by a soft ellipse moving along its own path, rendered at
    ``frames`` instants and averaged in linear light; the sharp target is the middle
    instant. A ``margin`` is cut off both results.

    Args:
        sharp, foreground: Display values in [0, 1] of one shape (the object's texture
            comes from ``foreground``; pass ``sharp.roll(1, 0)`` to use another sample).
        rng: Random source on their device.
        frames: Instants averaged (odd: the middle one is the target).
        margin: Pixels cut off each side (hides the warps' borders).
        max_motion: The camera's largest travel over the exposure, as a fraction of the
            image side; objects travel up to twice as far.
        noise: Largest noise standard deviation (display units).

    Returns:
        ``(blurred, sharp)``, display values in [0, 1].

    Shape:
        - sharp, foreground: :math:`(B, C, H, W)`; outputs :math:`(B, C, H - 2m, W - 2m)`.
    """
    if frames < 1 or frames % 2 == 0:
        raise ValueError(f"frames must be odd and positive, got {frames}")
    b, c, h, w = sharp.shape
    device = sharp.device
    times = torch.linspace(-0.5, 0.5, frames, device=device) if frames > 1 else torch.zeros(1)
    times = times.to(device)

    def path(travel: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        # Per sample: velocity and curvature of the shift (normalised units: 2 = the side),
        # a roll rate and a zoom rate; evaluated at every instant.
        speed = 2 * travel * torch.rand(b, 1, 1, generator=rng, device=device)
        direction = torch.randn(b, 1, 2, generator=rng, device=device)
        direction = direction / direction.norm(dim=-1, keepdim=True).clamp_min(1e-6)
        bend = 0.5 * travel * torch.randn(b, 1, 2, generator=rng, device=device)
        t = times[None, :, None]
        shift = speed * direction * t + bend * (t**2 - 1 / 12)
        roll = 0.05 * torch.randn(b, 1, generator=rng, device=device) * times
        zoom = 1 + 0.05 * torch.randn(b, 1, generator=rng, device=device) * times
        return shift.reshape(-1, 2), roll.reshape(-1), zoom.reshape(-1)

    def render(image: torch.Tensor, motion) -> torch.Tensor:
        grid = F.affine_grid(_affine(*motion), [b * frames, image.shape[1], h, w], False)
        stack = image.repeat_interleave(frames, dim=0)
        return F.grid_sample(stack, grid, padding_mode="reflection", align_corners=False)

    camera = path(max_motion)
    thing = path(2 * max_motion)
    # A soft ellipse of random size and place, carried along the object's path.
    yy = torch.linspace(-1, 1, h, device=device)[:, None]
    xx = torch.linspace(-1, 1, w, device=device)[None, :]
    centre = (torch.rand(b, 2, generator=rng, device=device) - 0.5)[:, :, None, None]
    radii = (0.15 + 0.3 * torch.rand(b, 2, generator=rng, device=device))[:, :, None, None]
    distance = ((yy - centre[:, 0]) / radii[:, 0]) ** 2 + ((xx - centre[:, 1]) / radii[:, 1]) ** 2
    present = (torch.rand(b, 1, 1, generator=rng, device=device) < 0.5).float()
    mask = (torch.sigmoid((1 - distance) * 8) * present)[:, None]
    background = render(to_linear(sharp), camera)
    layer = render(torch.cat([to_linear(foreground), mask], 1), thing)
    alpha = layer[:, c:]
    composed = background * (1 - alpha) + layer[:, :c] * alpha
    composed = composed.view(b, frames, c, h, w)
    blurred = to_display(composed.mean(1))
    target = to_display(composed[:, frames // 2])
    return _noisy(_inner(blurred, margin), noise, rng), _inner(target, margin)
