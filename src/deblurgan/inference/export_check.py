"""Checking an exported generator (ONNX, or float16 weights) against the original on images."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path

from deblurgan.checkpoint import load_generator
from deblurgan.inference.deblurrer import Deblurrer
from deblurgan.inference.export import onnx_restore, onnx_session
from deblurgan.io.images import read_image
from deblurgan.metrics import psnr
from deblurgan.nets.generator import Generator


@dataclasses.dataclass(frozen=True)
class Agreement:
    """How closely an exported model reproduces the original on one image.

    Attributes:
        image: The image deblurred by both.
        runtime: What ran the export (``onnxruntime`` or ``float16 weights``).
        psnr: PSNR of the export's output against PyTorch's, in dB.
    """

    image: Path
    runtime: str
    psnr: float


def verify_export(
    generator: Generator, exported: str | os.PathLike, onnx: bool, images: Sequence[Path]
) -> list[Agreement]:
    """Deblur ``images`` with the original ``generator`` (PyTorch) and with its export.

    Args:
        generator: The network that was exported.
        exported: The ONNX file (``onnx``) or the float16 safetensors checkpoint.
        onnx: Whether ``exported`` is ONNX (run by onnxruntime).
        images: Image files to compare on.

    Raises:
        ImageReadError: An image cannot be read.
        RuntimeError: onnxruntime is missing.
    """
    reference = Deblurrer(generator, backend="torch")
    if onnx:
        session = onnx_session(exported)
        sides = generator.size_multiple, generator.min_side
        run, runtime = (lambda rgb: onnx_restore(session, rgb, *sides)), "onnxruntime"
    else:
        run, runtime = Deblurrer(load_generator(exported), backend="torch"), "float16 weights"
    agreements = []
    for path in images:
        rgb = read_image(path).rgb
        agreements.append(Agreement(Path(path), runtime, psnr(run(rgb), reference(rgb))))
    return agreements
