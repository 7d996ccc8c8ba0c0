"""Deblurring at full resolution, any size: whole image or exact tiles; PyTorch, OpenVINO or
onnxruntime.

A :class:`Deblurrer` settles everything at construction (device, precision,
runtime, the exported model) and never changes afterwards: the same instance
gives the same answer to :meth:`Deblurrer.plan` before and after its first image.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import torch

from deblurgan.checkpoint import load_generator
from deblurgan.inference.backends import BUILDERS, ForwardFn
from deblurgan.inference.policy import (  # agreement_image, eight_bit_psnr: re-exported
    AGREEMENT_DB,
    BACKENDS,
    DEFAULT_MAX_MEMORY,
    INT8_NEEDS,
    agreement_image,
    automatic_precisions,
    check_backend,
    check_settings,
    choose_backend,
    eight_bit_psnr,
    whole_image_peak_bytes,
)
from deblurgan.inference.tiled import tiled_forward, tiled_peak_bytes
from deblurgan.inference.weights import default_weights_path
from deblurgan.nets.generator import Generator
from deblurgan.nets.tensors import crop_padding, pad_to_multiple, rgb_to_tensor, tensors_to_rgb
from deblurgan.restoration import Restoration
from deblurgan.runtime import Precision, autocast, check_precision, eval_mode, resolve_device

# torch.compile mode per device type (default mode elsewhere); on an H100 the paper
# generator in fp16 ran 4.74 ms per 720p frame compiled so, against 15.0 ms eager
COMPILE_MODES = {"cuda": "max-autotune-no-cudagraphs"}


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
    padded, pads = pad_to_multiple(blurred, generator.size_multiple, generator.min_side)
    with torch.inference_mode(), autocast(blurred.device, precision):
        if tile is None:
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
        precision: ``"auto"`` (default), ``"fp32"``, ``"bf16"`` (CPU, CUDA), ``"fp16"``
            (CUDA, MPS) or ``"int8"`` (OpenVINO with NNCF post-training quantisation;
            images tiled for memory run fp32 in PyTorch). ``"auto"``: on a CPU, int8
            through OpenVINO where the CPU has int8 dot products (VNNI/AMX), else bf16
            through OpenVINO where it has native bf16; fp16 autocast on CUDA; else fp32.
            A reduced precision is used only if its output on :func:`agreement_image`
            agrees with fp32 to :data:`AGREEMENT_DB` (8-bit PSNR); otherwise the next
            candidate (fp32 last), with a warning.
        stochastic: Apply dropout at test time, as in the paper.
        seed: Seed of the dropout masks when ``stochastic``.
        tile: Always use exact tiled inference (in PyTorch) with this tile side.
        max_memory: Bytes the whole-image pass may use; larger images are tiled
            automatically (float16 layer storage if float32 would not fit either).
        backend: Runtime of whole-image passes, a key of
            :data:`~deblurgan.inference.backends.BACKENDS` or ``"auto"``
            (:func:`~deblurgan.inference.backends.choose_backend`: OpenVINO where it
            applies, else PyTorch). The model is converted here, once (cached on disk
            for OpenVINO); if that fails under ``"auto"``, PyTorch is used with a
            warning. Tiled images always run in PyTorch.
        compile: Run whole images through ``torch.compile`` (PyTorch backend; on CUDA in
            mode ``max-autotune-no-cudagraphs``). Each new image size is compiled on first
            sight (about a minute on a GPU), so it pays off on videos and folders of
            same-size frames; deterministic only.

    Attributes:
        device, precision: As resolved from the arguments (``precision`` is never "auto").
        backend: The runtime actually used for whole images.
        agreement_db: The chosen precision's 8-bit PSNR to fp32 on the check image, where
            ``"auto"`` checked it (else None).
        compiled: Whether whole images run through ``torch.compile``.
        weights: What the model was loaded from, for reports (``"bundled"``, a path, or
            ``"(in memory)"``).

    Examples:
        >>> import numpy as np
        >>> deblur = Deblurrer(Generator(ngf=8, n_blocks=1), backend="torch")
        >>> deblur(np.zeros((5, 7, 3), np.float32)).shape
        (5, 7, 3)
        >>> deblur.plan(720, 1280)  # whole image, float32 layers
        (None, torch.float32)
    """

    name = "network"

    def __init__(
        self,
        generator: Generator,
        device: str | torch.device = "cpu",
        precision: str = "auto",
        stochastic: bool = False,
        seed: int = 0,
        tile: int | None = None,
        max_memory: int = DEFAULT_MAX_MEMORY,
        backend: str = "auto",
        compile: bool = False,
    ) -> None:
        check_settings(stochastic, tile, compile, backend)
        backend = "torch" if compile else backend
        self.device = resolve_device(device)
        self.stochastic, self.seed, self.tile, self.max_memory = stochastic, seed, tile, max_memory
        self.generator = generator.to(self.device)  # run in eval mode, left in its own mode
        self.agreement_db: float | None = None
        with eval_mode(self.generator):
            self._choose_runtime(precision, backend)
        self.compiled = compile
        self.weights = "(in memory)"
        self._network = (
            torch.compile(self.generator, mode=COMPILE_MODES.get(self.device.type))
            if compile
            else self.generator
        )

    def _choose_runtime(self, precision: str, backend: str) -> None:
        """Settle ``precision``, ``backend`` and the converted model (with the agreement checks
        under ``precision="auto"``)."""
        if precision != "auto":
            self.precision = check_precision(precision, self.device)
            self.backend, self._exported = self._runtime(backend)
        else:  # the fastest verified candidate that agrees with fp32 here; fp32 last
            candidates = automatic_precisions(
                self.device.type, backend, self.stochastic, self.tile is not None
            )
            for candidate in candidates:
                self.precision = candidate
                self.backend, self._exported = self._runtime(backend)
                if candidate == "fp32":
                    self.agreement_db = None  # the reference itself: nothing to check
                    break
                if not BACKENDS[self.backend].supports(
                    self.device.type, candidate, self.stochastic
                ):
                    continue  # int8 after OpenVINO failed, say: the next candidate
                agreement = self.agreement_db = self._agreement()
                if agreement >= AGREEMENT_DB[candidate]:
                    break
                warnings.warn(
                    f"{candidate} agrees with fp32 to only {agreement:.1f} dB on the check "
                    "image; not using it",
                    stacklevel=3,
                )

    def _runtime(self, backend: str) -> tuple[str, ForwardFn | None]:
        if backend == "auto":
            chosen = choose_backend(self.device.type, self.precision, self.stochastic)
            if self.precision == "int8" and chosen != "openvino":
                raise ValueError(INT8_NEEDS)
            return self._build(chosen, True)
        check_backend(backend, self.device.type, self.precision, self.stochastic)
        return self._build(backend, fallback=False)

    def _agreement(self) -> float:
        """8-bit PSNR of this Deblurrer's output against eager fp32 on the check image."""
        x = rgb_to_tensor(agreement_image())
        reference = restore(self.generator, x.to(self.device))
        if self._exported is not None:
            reduced = self._exported(x)
        else:  # deterministic even for a stochastic Deblurrer: the check is about numerics
            reduced = restore(self.generator, x.to(self.device), self.precision)
        return eight_bit_psnr(tensors_to_rgb(reduced), tensors_to_rgb(reference))

    def _build(self, name: str, fallback: bool) -> tuple[str, ForwardFn | None]:
        """The runtime's forward function (None for PyTorch), converting the model once."""
        build = BUILDERS.get(name)
        if build is None or self.tile is not None:
            return ("torch" if self.tile is not None else name), None
        try:
            return name, build(self.generator, self.precision)
        except Exception as err:  # noqa: BLE001 - any converter failure: PyTorch, if allowed
            if not fallback:
                raise
            warnings.warn(f"{name} failed ({err}); using PyTorch", stacklevel=5)
            return "torch", None

    def plan(self, height: int, width: int) -> tuple[int | None, torch.dtype]:
        """Tile side (None: whole image) and layer storage dtype for an image of this size."""
        channels = self.generator.full_resolution_channels
        whole = whole_image_peak_bytes(channels, height, width, self.backend)
        if self.tile is None and (self.stochastic or whole <= self.max_memory):
            return None, torch.float32
        tile = self.tile or 256
        if tiled_peak_bytes(channels, height, width, torch.float32, tile) <= self.max_memory:
            return tile, torch.float32
        return tile, torch.float16

    @classmethod
    def from_checkpoint(
        cls, weights: str | os.PathLike | None = None, data: bytes | None = None, **kwargs
    ) -> Deblurrer:
        """Load a checkpoint (default: the bundled model) and wrap it.

        Args:
            weights: A ``.safetensors`` checkpoint or an original ``.pth`` file;
                ``None`` for the model bundled with the package.
            data: The checkpoint's bytes, already read (and hashed) by the caller: parsed
                instead of reading the file again.
            **kwargs: Passed to :class:`Deblurrer`.
        """
        path = weights if weights is not None else default_weights_path()
        deblurrer = cls(load_generator(path, data=data), **kwargs)
        deblurrer.weights = str(weights) if weights is not None else "bundled"
        return deblurrer

    def settings(self) -> dict:
        """What a report records about the model and runtime."""
        return {
            "method": self.name,
            "weights": self.weights,
            "device": str(self.device),
            "precision": self.precision,
            "backend": self.backend,
            "stochastic": self.stochastic,
            "compiled": self.compiled,
            **({"seed": self.seed} if self.stochastic else {}),
        }

    def restore(self, rgb: np.ndarray) -> Restoration:
        """Deblur one ``(H, W, 3)`` image (the method interface; see :meth:`__call__`)."""
        return Restoration(self(rgb))

    def restore_tensor(self, blurred: torch.Tensor) -> torch.Tensor:
        """Deblur a batch in [-1, 1]; see :func:`restore`.

        Shape:
            - Input: :math:`(B, 3, H, W)`.
            - Output: :math:`(B, 3, H, W)`, float32.
        """
        tile, storage = self.plan(*blurred.shape[-2:])
        if self._exported is not None and tile is None:
            return self._exported(blurred)
        rng = torch.Generator(self.device).manual_seed(self.seed) if self.stochastic else None
        network = self.generator if tile is not None else self._network
        with eval_mode(self.generator):
            return restore(network, blurred.to(self.device), self.precision, rng, tile, storage)

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
