"""The network's tensor convention: RGB in [-1, 1], (B, 3, H, W), sides padded to the multiple
the architecture needs (``size_multiple``, ``min_side``; 4 and 8 for the paper's generator).

Examples:
    >>> import numpy as np
    >>> x = rgb_to_tensor(np.full((5, 7, 3), 0.5, np.float32))
    >>> x.shape, float(x.mean())
    (torch.Size([1, 3, 5, 7]), 0.0)
    >>> padded, pads = pad_to_multiple(x)
    >>> padded.shape, pads
    (torch.Size([1, 3, 8, 8]), (0, 1, 1, 2))
    >>> crop_padding(padded, pads).shape
    torch.Size([1, 3, 5, 7])
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from deblurgan.nets.padding import side_padding

MULTIPLE = 4  # the paper's generator downsamples twice by 2 (its ``size_multiple``) ...
MIN_SIDE = 8  # ... and its ResBlocks need at least 2x2 feature maps (its ``min_side``)


def rgb_to_tensor(rgb: np.ndarray) -> torch.Tensor:
    """An RGB image (or a stack of same-size images) in [0, 1] as a network input in [-1, 1].

    Shape:
        - Input: :math:`(H, W, 3)` or :math:`(N, H, W, 3)`; output :math:`(N, 3, H, W)`
          (N = 1 for one image), float32.
    """
    x = torch.from_numpy(np.ascontiguousarray(rgb, dtype=np.float32))
    return (x[None] if x.ndim == 3 else x).permute(0, 3, 1, 2) * 2 - 1


def tensor_to_rgb(x: torch.Tensor) -> np.ndarray:
    """The first image of a network output in [-1, 1] as float32 RGB in [0, 1].

    Shape:
        - Input: :math:`(B, 3, H, W)`; output :math:`(H, W, 3)`.
    """
    return tensors_to_rgb(x[:1])[0]


def tensors_to_rgb(x: torch.Tensor) -> np.ndarray:
    """A batch of network outputs in [-1, 1] as float32 RGB images in [0, 1].

    Shape:
        - Input: :math:`(B, 3, H, W)`; output :math:`(B, H, W, 3)`.
    """
    return ((x.float().permute(0, 2, 3, 1) + 1.0) * 0.5).clamp_(0.0, 1.0).cpu().numpy()


def pad_to_multiple(
    x: torch.Tensor, multiple: int = MULTIPLE, min_side: int = MIN_SIDE
) -> tuple[torch.Tensor, tuple[int, int, int, int]]:
    """Pad H and W up to a multiple of ``multiple`` (and at least ``min_side``).

    Padding is split between both sides and mirrors the image (reflection);
    where a side is too short to mirror that far, edge pixels are repeated
    (:func:`~deblurgan.nets.padding.side_padding`).

    Returns:
        The padded tensor and the ``(left, right, top, bottom)`` padding, for
        :func:`crop_padding`.

    Shape:
        - Input: :math:`(B, C, H, W)`.
        - Output: :math:`(B, C, H', W')`.
    """
    (top, bottom), (left, right), mode = side_padding(*x.shape[-2:], multiple, min_side)
    pads = (left, right, top, bottom)
    if pads == (0, 0, 0, 0):
        return x, pads
    return F.pad(x, pads, mode="replicate" if mode == "edge" else mode), pads


def crop_padding(x: torch.Tensor, pads: tuple[int, int, int, int]) -> torch.Tensor:
    """Undo :func:`pad_to_multiple`."""
    left, right, top, bottom = pads
    return x[..., top : x.shape[-2] - bottom, left : x.shape[-1] - right]


def run_padded(
    generator: torch.nn.Module, blurred: torch.Tensor, dropout_rng: torch.Generator | None = None
) -> torch.Tensor:
    """Run the generator on images of any size: padded by :func:`pad_to_multiple` to the
    generator's ``size_multiple`` and ``min_side``, cropped back.

    Shape:
        - blurred: :math:`(B, 3, H, W)` in [-1, 1], any ``H, W >= 1``; output the same shape.
    """
    padded, pads = pad_to_multiple(blurred, generator.size_multiple, generator.min_side)
    return crop_padding(generator(padded, dropout_rng=dropout_rng), pads)


def run_exported(
    run: Callable[[np.ndarray], np.ndarray],
    blurred: torch.Tensor,
    multiple: int = MULTIPLE,
    min_side: int = MIN_SIDE,
) -> torch.Tensor:
    """Run an exported model, one padded image per call, on a batch of any size.

    Args:
        run: Maps a (1, 3, H, W) float32 array (H, W multiples of ``multiple``) to its output.
        blurred: Images in [-1, 1].
        multiple, min_side: The exported architecture's ``size_multiple`` and ``min_side``.

    Shape:
        - blurred: :math:`(B, 3, H, W)`; output the same shape, float32, on the CPU.
    """
    padded, pads = pad_to_multiple(blurred.float().cpu(), multiple, min_side)
    outs = [run(image[None].numpy()) for image in padded]
    return crop_padding(torch.from_numpy(np.concatenate(outs)), pads)
