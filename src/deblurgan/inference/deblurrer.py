"""Whole-image deblurring at full resolution, for any size and aspect ratio."""

from __future__ import annotations

import os

import numpy as np
import torch
import torch.nn.functional as F

from deblurgan.checkpoint import load_generator
from deblurgan.inference.weights import default_weights_path
from deblurgan.nets.generator import Generator
from deblurgan.runtime import Precision, autocast, check_precision, resolve_device

MULTIPLE = 4  # the generator downsamples twice by 2
MIN_SIDE = 8  # its ResBlocks need at least 2x2 feature maps


def pad_to_multiple(
    x: torch.Tensor, multiple: int = MULTIPLE, min_side: int = MIN_SIDE
) -> tuple[torch.Tensor, tuple[int, int, int, int]]:
    """Pad H and W up to a multiple of ``multiple`` (and at least ``min_side``).

    Padding is split between both sides and mirrors the image (reflection);
    where a side is too short to mirror that far, edge pixels are repeated.

    Returns:
        The padded tensor and the ``(left, right, top, bottom)`` padding, for
        :func:`crop_padding`.

    Shape:
        - Input: :math:`(B, C, H, W)`.
        - Output: :math:`(B, C, H', W')`.
    """
    height, width = x.shape[-2:]
    pads: list[int] = []
    for size in (width, height):
        target = max(-(-size // multiple) * multiple, min_side)
        before = (target - size) // 2
        pads += [before, target - size - before]
    if pads == [0, 0, 0, 0]:
        return x, (0, 0, 0, 0)
    mode = "reflect" if max(pads[:2]) < width and max(pads[2:]) < height else "replicate"
    return F.pad(x, pads, mode=mode), tuple(pads)  # type: ignore[return-value]


def crop_padding(x: torch.Tensor, pads: tuple[int, int, int, int]) -> torch.Tensor:
    """Undo :func:`pad_to_multiple`."""
    left, right, top, bottom = pads
    return x[..., top : x.shape[-2] - bottom, left : x.shape[-1] - right]


def restore(
    generator: Generator,
    blurred: torch.Tensor,
    precision: Precision = "fp32",
    dropout_rng: torch.Generator | None = None,
) -> torch.Tensor:
    """Run ``generator`` on images of any size and return float32 results.

    Args:
        generator: The network, already on the input's device.
        blurred: Images in [-1, 1].
        precision: ``fp32``, or an autocast precision supported on the device.
        dropout_rng: If given, the paper's test-time dropout with this generator.

    Returns:
        Restored images in [-1, 1], float32, the input's size.

    Shape:
        - Input: :math:`(B, 3, H, W)`, any ``H, W >= 1``.
        - Output: :math:`(B, 3, H, W)`.
    """
    padded, pads = pad_to_multiple(blurred)
    with torch.inference_mode(), autocast(blurred.device, precision):
        out = generator(padded, dropout_rng=dropout_rng)
    return crop_padding(out.float(), pads)


class Deblurrer:
    """Deblur numpy images with a generator, deterministically by default.

    Inference is explicit: the network is in eval mode, so dropout is off and
    InstanceNorm uses each image's own statistics. With ``stochastic=True`` the
    paper's test-time dropout is applied with a generator re-seeded from
    ``seed`` for every image, so the output of an image does not depend on
    which images came before it.

    Args:
        generator: A trained generator.
        device: ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"`` or a device.
        precision: ``"fp32"`` (default), ``"bf16"`` (CPU, CUDA) or ``"fp16"`` (CUDA, MPS).
        stochastic: Apply dropout at test time, as in the paper.
        seed: Seed of the dropout masks when ``stochastic``.

    Examples:
        >>> import numpy as np
        >>> deblur = Deblurrer(Generator(ngf=8, n_blocks=1))
        >>> deblur(np.zeros((5, 7, 3), np.float32)).shape
        (5, 7, 3)
    """

    def __init__(
        self,
        generator: Generator,
        device: str | torch.device = "cpu",
        precision: str = "fp32",
        stochastic: bool = False,
        seed: int = 0,
    ) -> None:
        self.device = resolve_device(device)
        self.precision = check_precision(precision, self.device)
        self.generator = generator.to(self.device).eval()
        self.stochastic = stochastic
        self.seed = seed

    @classmethod
    def from_checkpoint(cls, weights: str | os.PathLike | None = None, **kwargs) -> Deblurrer:
        """Load a checkpoint (default: the bundled model) and wrap it.

        Args:
            weights: A ``.safetensors`` checkpoint or an original ``.pth`` file;
                ``None`` for the model bundled with the package.
            **kwargs: Passed to :class:`Deblurrer`.
        """
        return cls(
            load_generator(weights if weights is not None else default_weights_path()), **kwargs
        )

    def restore_tensor(self, blurred: torch.Tensor) -> torch.Tensor:
        """Deblur a batch in [-1, 1]; see :func:`restore`.

        Shape:
            - Input: :math:`(B, 3, H, W)`.
            - Output: :math:`(B, 3, H, W)`, float32.
        """
        rng = None
        if self.stochastic:
            rng = torch.Generator(self.device).manual_seed(self.seed)
        return restore(self.generator, blurred.to(self.device), self.precision, rng)

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """Deblur one RGB image.

        Args:
            rgb: Float array in [0, 1].

        Returns:
            The deblurred image, float32 in [0, 1].

        Shape:
            - Input: :math:`(H, W, 3)`.
            - Output: :math:`(H, W, 3)`.
        """
        if rgb.ndim != 3 or rgb.shape[2] != 3:
            raise ValueError(f"expected an (H, W, 3) RGB array, got shape {rgb.shape}")
        x = torch.from_numpy(np.ascontiguousarray(rgb, dtype=np.float32)).permute(2, 0, 1)[None]
        out = self.restore_tensor(x * 2.0 - 1.0)
        return ((out[0].permute(1, 2, 0) + 1.0) * 0.5).clamp_(0.0, 1.0).cpu().numpy()
