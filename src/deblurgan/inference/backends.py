"""The runtimes a :class:`~deblurgan.inference.Deblurrer` can run whole images in.

One table, :data:`BACKENDS`: for each runtime, what it supports (devices,
precisions, test-time dropout), whether it is installed, the memory of its
whole-image pass, and a factory that turns a generator into a forward function.
:func:`choose_backend` picks the runtime for ``"auto"`` from that table.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch

from deblurgan.inference.export import export_onnx, onnx_forward, onnx_session
from deblurgan.inference.openvino_backend import compile_openvino
from deblurgan.nets.generator import Generator
from deblurgan.nets.tensors import run_exported
from deblurgan.runtime import cpu_has_native_bf16

ForwardFn = Callable[[torch.Tensor], torch.Tensor]


@dataclasses.dataclass(frozen=True)
class Backend:
    """What one runtime can do.

    Attributes:
        devices: Device types it runs on.
        precisions: Precisions it runs.
        stochastic: Whether it can apply the paper's test-time dropout.
        package: The Python package it needs (None: PyTorch itself).
        bytes_per_value: Peak memory of a whole-image fp32 pass per ``ngf x H x W``
            value, fitted to ``benchmarks/inference.py`` (both generators, 256x256 to 4K).
        runtime_bytes: The runtime's own memory on top of that.
        build: Turns a generator and a precision into a function of images in
            [-1, 1] of any size (None: the generator itself, through :func:`restore`).
    """

    devices: tuple[str, ...]
    precisions: tuple[str, ...]
    stochastic: bool
    package: str | None
    bytes_per_value: int
    runtime_bytes: int
    build: Callable[[Generator, str], ForwardFn] | None = None

    def available(self) -> bool:
        """Whether its package is installed."""
        return self.package is None or importlib.util.find_spec(self.package) is not None

    def supports(self, device: torch.device, precision: str, stochastic: bool) -> bool:
        """Whether it can run this device, precision and dropout setting."""
        return (
            device.type in self.devices
            and precision in self.precisions
            and (self.stochastic or not stochastic)
        )


def _openvino(generator: Generator, precision: str) -> ForwardFn:
    compiled = compile_openvino(generator, precision)
    return functools.partial(run_exported, lambda image: compiled(image)[0])


def _onnxruntime(generator: Generator, precision: str) -> ForwardFn:
    with tempfile.TemporaryDirectory() as folder:
        session = onnx_session(export_onnx(generator, Path(folder) / "generator.onnx"))
    return functools.partial(onnx_forward, session)


BACKENDS: dict[str, Backend] = {
    "torch": Backend(("cpu", "cuda", "mps"), ("fp32", "bf16", "fp16"), True, None, 16, 0),
    "openvino": Backend(
        ("cpu",), ("fp32", "bf16", "int8"), False, "openvino", 12, 100 * 2**20, _openvino
    ),
    "onnxruntime": Backend(
        ("cpu",), ("fp32",), False, "onnxruntime", 40, 100 * 2**20, _onnxruntime
    ),
}


def choose_backend(device: torch.device, precision: str, stochastic: bool) -> str:
    """The runtime ``"auto"`` means: OpenVINO where it applies and is installed (bf16 only on
    CPUs with native bf16, where it is fast; int8 always, PyTorch has none), else PyTorch."""
    openvino = BACKENDS["openvino"]
    if (
        openvino.supports(device, precision, stochastic)
        and openvino.available()
        and (precision != "bf16" or cpu_has_native_bf16())
    ):
        return "openvino"
    return "torch"


def check_backend(name: str, device: torch.device, precision: str, stochastic: bool) -> None:
    """Refuse a runtime that is unknown, not installed, or cannot run this setting.

    Raises:
        ValueError: Naming what it supports.
    """
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; use auto, {', '.join(BACKENDS)}")
    backend = BACKENDS[name]
    if not backend.supports(device, precision, stochastic):
        raise ValueError(
            f"the {name} backend runs on {'/'.join(backend.devices)} in "
            f"{'/'.join(backend.precisions)}"
            + ("" if backend.stochastic else ", deterministic only (stochastic=False)")
            + f"; asked for {device.type}, {precision}, stochastic={stochastic}"
        )
    if not backend.available():
        raise ValueError(f"the {name} backend needs the {backend.package} package")
