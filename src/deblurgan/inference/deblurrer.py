"""Deblurring at full resolution, any size: whole image or exact tiles; PyTorch, OpenVINO or
onnxruntime."""

from __future__ import annotations

import functools
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from deblurgan.checkpoint import load_generator
from deblurgan.inference.export import export_onnx, onnx_forward, onnx_session
from deblurgan.inference.openvino_backend import compile_openvino, openvino_available
from deblurgan.inference.tensors import (
    crop_padding,
    pad_to_multiple,
    rgb_to_tensor,
    run_exported,
    tensors_to_rgb,
)
from deblurgan.inference.tiled import PROCESS_BYTES, tiled_forward, tiled_peak_bytes
from deblurgan.inference.weights import default_weights_path
from deblurgan.nets.generator import Generator
from deblurgan.runtime import (
    Precision,
    autocast,
    check_precision,
    cpu_has_native_bf16,
    preferred_memory_format,
    resolve_device,
)

DEFAULT_MAX_MEMORY = 4 * 2**30


# Bytes per ngf x H x W value at the peak of a whole-image fp32 pass, and the runtime's own
# memory: fitted to benchmarks/inference.py (both generators, 256x256 to 4K; the estimates
# fall between 1% below and 34% above the measured peaks, 12% above at most from 1080p up).
_WHOLE_IMAGE_BYTES = {
    "torch": (16, 0),
    "openvino": (12, 100 * 2**20),
    "onnxruntime": (40, 100 * 2**20),
}


def whole_image_peak_bytes(ngf: int, height: int, width: int, backend: str = "torch") -> int:
    """Approximate peak memory of a whole-image fp32 pass in ``backend`` (process included):
    a few full-resolution ``ngf``-channel activations alive at once (eager PyTorch, paper's
    generator: 1.22 GB measured at 720p; OpenVINO: 1.02 GB)."""
    per_value, runtime = _WHOLE_IMAGE_BYTES[backend]
    return per_value * ngf * height * width + runtime + PROCESS_BYTES


def restore(
    generator: Generator,
    blurred: torch.Tensor,
    precision: Precision = "fp32",
    dropout_rng: torch.Generator | None = None,
    tile: int | None = None,
    tile_storage: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Run ``generator`` on images of any size and return float32 results.

    Args:
        generator: The network, already on the input's device.
        blurred: Images in [-1, 1].
        precision: ``fp32``, or an autocast precision supported on the device.
        dropout_rng: If given, the paper's test-time dropout with this generator.
        tile: If given, exact tiled inference with tiles of this side
            (:func:`deblurgan.inference.tiled.tiled_forward`); one image at a time,
            deterministic only.
        tile_storage: dtype of the stored layer outputs when tiling.

    Returns:
        Restored images in [-1, 1], float32, the input's size.

    Shape:
        - Input: :math:`(B, 3, H, W)`, any ``H, W >= 1``.
        - Output: :math:`(B, 3, H, W)`.
    """
    padded, pads = pad_to_multiple(blurred)
    with torch.inference_mode(), autocast(blurred.device, precision):
        if tile is None:
            padded = padded.contiguous(memory_format=preferred_memory_format(padded.device))
            out = generator(padded, dropout_rng=dropout_rng)
        elif dropout_rng is not None:
            raise ValueError("tiled inference is deterministic: it cannot apply test-time dropout")
        else:
            out = torch.cat(
                [tiled_forward(generator, image[None], tile, tile_storage) for image in padded]
            )
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
        tile: Always use exact tiled inference with this tile side.
        max_memory: Bytes the whole-image pass may use; larger images are tiled
            automatically (float16 layer storage if float32 would not fit either).
        backend: Runtime of whole-image passes on the CPU. ``"auto"`` (default):
            OpenVINO where it applies (installed, CPU, deterministic, fp32 or bf16),
            else PyTorch. ``"openvino"`` (on a 2-core AVX2 CPU 1.4-2.3x eager
            PyTorch for the bundled model, 1.2-1.6x for the paper's, 256x256 to 4K;
            converted once per checkpoint, then cached), ``"onnxruntime"`` (CPU, fp32,
            1.0-1.6x), ``"torch"``.
            Tiled images and GPUs always run in PyTorch. On CUDA the weights and
            images are channels_last; set ``torch.backends.cudnn.benchmark = True``
            when many images share a size (``deblurgan deblur`` does).

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
        tile: int | None = None,
        max_memory: int = DEFAULT_MAX_MEMORY,
        backend: str = "auto",
    ) -> None:
        self.device = resolve_device(device)
        self.precision = check_precision(precision, self.device)
        memory_format = preferred_memory_format(self.device)
        self.generator = generator.to(self.device, memory_format=memory_format).eval()
        self.stochastic = stochastic
        self.seed = seed
        if tile is not None and (tile < 8 or stochastic):
            raise ValueError("tile must be >= 8, and tiling cannot be combined with --stochastic")
        self.tile, self.max_memory = tile, max_memory
        if backend not in ("auto", "torch", "openvino", "onnxruntime"):
            raise ValueError(
                f"unknown backend {backend!r}; use auto, torch, openvino or onnxruntime"
            )
        exportable = not stochastic and self.device.type == "cpu"
        self._auto = backend == "auto"
        if backend == "auto":
            fits = self.precision == "fp32" or (self.precision == "bf16" and cpu_has_native_bf16())
            backend = "openvino" if exportable and fits and openvino_available() else "torch"
        elif backend != "torch" and not (
            exportable and self.precision in BACKEND_PRECISIONS[backend]
        ):
            raise ValueError(f"the {backend} backend is deterministic, CPU and "
                             f"{'/'.join(BACKEND_PRECISIONS[backend])} only")  # fmt: skip
        self.backend = backend
        self._forward = None  # the exported model, built on the first pass

    def plan(self, height: int, width: int) -> tuple[int | None, torch.dtype]:
        """Tile side (None: whole image) and layer storage dtype for an image of this size."""
        ngf = self.generator.config["ngf"]
        whole = whole_image_peak_bytes(ngf, height, width, self.backend)
        if self.tile is None and (self.stochastic or whole <= self.max_memory):
            return None, torch.float32
        tile = self.tile or 256
        if tiled_peak_bytes(ngf, height, width, torch.float32, tile) <= self.max_memory:
            return tile, torch.float32
        return tile, torch.float16

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
        if self.backend != "torch" and self.tile is None and self._forward is None:
            try:
                self._forward = exported_forward(self.backend, self.generator, self.precision)
            except Exception as err:  # noqa: BLE001 - any converter failure: use PyTorch
                if not self._auto:
                    raise
                warnings.warn(f"{self.backend} failed ({err}); using PyTorch", stacklevel=2)
                self.backend = "torch"
        tile, storage = self.plan(*blurred.shape[-2:])  # after a fallback: PyTorch's memory
        if self._forward is not None and tile is None:
            return self._forward(blurred)
        return restore(self.generator, blurred.to(self.device), self.precision, rng, tile, storage)

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """Deblur one RGB image, or a stack of same-size images in one batch.

        Args:
            rgb: Float array in [0, 1].

        Returns:
            The deblurred image(s), float32 in [0, 1].

        Shape:
            - Input: :math:`(H, W, 3)` or :math:`(N, H, W, 3)`.
            - Output: the input's shape.
        """
        if rgb.ndim not in (3, 4) or rgb.shape[-1] != 3:
            raise ValueError(f"expected an (H, W, 3) or (N, H, W, 3) RGB array, got {rgb.shape}")
        if rgb.ndim == 4 and self.stochastic:  # masks re-seeded per image, as one by one
            return np.stack([self(image) for image in rgb])
        restored = tensors_to_rgb(self.restore_tensor(rgb_to_tensor(rgb)))
        return restored[0] if rgb.ndim == 3 else restored


BACKEND_PRECISIONS = {"openvino": ("fp32", "bf16"), "onnxruntime": ("fp32",)}


def exported_forward(
    backend: str, generator: Generator, precision: str = "fp32"
) -> Callable[[torch.Tensor], torch.Tensor]:
    """``generator`` converted to ``backend`` (``"openvino"`` or ``"onnxruntime"``), as a
    function of images in [-1, 1] of any size, like :func:`restore` (deterministic).

    Shape:
        - Input: :math:`(B, 3, H, W)`; output the same shape, float32, on the CPU.
    """
    if backend == "openvino":
        compiled = compile_openvino(generator, precision)
        return functools.partial(run_exported, lambda image: compiled(image)[0])
    with tempfile.TemporaryDirectory() as folder:
        session = onnx_session(export_onnx(generator, Path(folder) / "generator.onnx"))
    return functools.partial(onnx_forward, session)
