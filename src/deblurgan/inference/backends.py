"""The forward functions of the runtimes that run a converted network.

:data:`BUILDERS` maps a runtime of :data:`~deblurgan.inference.policy.BACKENDS` to a factory
that turns a generator and a precision into a function of images in [-1, 1] of any size.
PyTorch has none: it runs the generator itself (:func:`~deblurgan.inference.deblurrer.restore`).
Which runtime and precision to use is decided in :mod:`deblurgan.inference.policy`.
"""

from __future__ import annotations

import functools
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch

from deblurgan.inference.export import export_onnx, onnx_forward, onnx_session
from deblurgan.inference.openvino_backend import compile_openvino
from deblurgan.nets.generator import Generator
from deblurgan.nets.tensors import run_exported

ForwardFn = Callable[[torch.Tensor], torch.Tensor]


def _openvino(generator: Generator, precision: str) -> ForwardFn:
    compiled = compile_openvino(generator, precision)
    return functools.partial(
        run_exported,
        lambda image: compiled(image)[0],
        multiple=generator.size_multiple,
        min_side=generator.min_side,
    )


def _onnxruntime(generator: Generator, precision: str) -> ForwardFn:
    with tempfile.TemporaryDirectory() as folder:
        session = onnx_session(export_onnx(generator, Path(folder) / "generator.onnx"))
    return functools.partial(
        onnx_forward, session, multiple=generator.size_multiple, min_side=generator.min_side
    )


BUILDERS: dict[str, Callable[[Generator, str], ForwardFn]] = {
    "openvino": _openvino,
    "onnxruntime": _onnxruntime,
}


def exported_forward(backend: str, generator: Generator, precision: str = "fp32") -> ForwardFn:
    """``generator`` converted to ``backend`` (``"openvino"`` or ``"onnxruntime"``), as a
    function of images in [-1, 1] of any size, like
    :func:`~deblurgan.inference.deblurrer.restore` (deterministic).

    Shape:
        - Input: :math:`(B, 3, H, W)`; output the same shape, float32, on the CPU.
    """
    if backend not in BUILDERS:
        raise ValueError(f"{backend} runs the generator itself; use restore()")
    return BUILDERS[backend](generator, precision)
