"""Blurring a batch of training crops on the fly, on the training device (torch).

Same conventions as :func:`deblurgan.blur.apply.blur_image` (mirror borders,
origin at the kernel's centre pixel, optional linear light and noise), so
the two agree to float precision.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from deblurgan.blur.apply import kernel_padding


def blur_batch(
    images: torch.Tensor,
    kernels: torch.Tensor,
    linear_light: bool = False,
    gamma: float = 2.2,
    noise_std: float = 0.0,
    poisson_peak: float | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Blur each image with its own kernel by FFT.

    Args:
        images: Float images in [0, 1].
        kernels: One kernel per image, or one kernel for all.
        linear_light: Blur in linear light (``x ** gamma``), then re-encode.
        gamma: The display gamma for ``linear_light``.
        noise_std: Gaussian noise standard deviation, in [0, 1] units.
        poisson_peak: If set, shot noise with this photon count at white.
        generator: Randomness for the noise (on the images' device).

    Returns:
        Blurred images clipped to [0, 1].

    Shape:
        - images: :math:`(B, C, H, W)`, with ``H, W`` larger than half the kernel.
        - kernels: :math:`(B, k_h, k_w)` or :math:`(k_h, k_w)`.
        - Output: :math:`(B, C, H, W)`.
    """
    if images.ndim != 4:
        raise ValueError(f"images must be (B, C, H, W), got shape {tuple(images.shape)}")
    if kernels.ndim == 2:
        kernels = kernels.expand(images.shape[0], *kernels.shape)
    if kernels.ndim != 3 or kernels.shape[0] != images.shape[0]:
        raise ValueError(
            f"kernels must be (B, kh, kw) with B={images.shape[0]}, got {tuple(kernels.shape)}"
        )
    height, width = images.shape[-2:]
    (top, bottom), (left, right) = kernel_padding(tuple(kernels.shape[-2:]))
    if max(top, bottom) >= height or max(left, right) >= width:
        raise ValueError(
            f"images of {height}x{width} are too small to mirror-pad for a "
            f"{kernels.shape[-2]}x{kernels.shape[-1]} kernel"
        )
    x = images.float()
    if linear_light:
        x = x.clamp(min=0) ** gamma
    padded = F.pad(x, (left, right, top, bottom), mode="reflect")
    size = padded.shape[-2:]
    spectrum = torch.fft.rfft2(padded) * torch.fft.rfft2(kernels.to(x), s=size).unsqueeze(1)
    full = torch.fft.irfft2(spectrum, s=size)
    # Circular convolution: rows/cols from k - 1 on are free of wrap-around.
    kh, kw = kernels.shape[-2:]
    blurred = full[..., kh - 1 : kh - 1 + height, kw - 1 : kw - 1 + width].clamp(min=0)
    if poisson_peak is not None:
        if poisson_peak <= 0:
            raise ValueError(f"poisson_peak must be positive, got {poisson_peak}")
        blurred = torch.poisson(blurred * poisson_peak, generator=generator) / poisson_peak
    if noise_std > 0:
        noise = torch.randn(blurred.shape, generator=generator, device=blurred.device)
        blurred = blurred + noise_std * noise
    if linear_light:
        blurred = blurred.clamp(min=0) ** (1.0 / gamma)
    return blurred.clamp(0.0, 1.0)
