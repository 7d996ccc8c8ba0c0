"""Which runtime and precision run the network: the one place that decides, without PyTorch.

:data:`BACKENDS` says what each runtime can do (devices, precisions, test-time dropout, the
package it needs, the memory of a whole-image pass); :func:`automatic_precisions` lists what
``precision="auto"`` may mean on a device, fastest first, and :func:`choose_backend` picks
the runtime for ``backend="auto"``. The factories that build each runtime's forward function
live in :mod:`deblurgan.inference.backends` (they need PyTorch); this module does not, so the
command line can offer these choices, and run a cached model, without importing it.
"""

from __future__ import annotations

import dataclasses
import importlib.util

import numpy as np

import deblurgan.hardware as hardware

DEFAULT_MAX_MEMORY = 4 * 2**30
MIN_TILE = 8  # the smallest side of an exact tile
INT8_NEEDS = "int8 runs in OpenVINO on a CPU, deterministic only (pip install openvino nncf)"
PROCESS_BYTES = 384 * 2**20  # Python, PyTorch and the weights, before any activation
# 8-bit PSNR to fp32 on agreement_image() that an automatic precision must reach. int8's
# accuracy is established on real data (within 0.1 dB PSNR of fp32 on every set of
# benchmarks/generalization.py); its check (37.4 dB for the bundled model on this harsh
# synthetic pattern, 43 dB on the example photo) catches broken kernels, not rounding.
AGREEMENT_DB = {"bf16": 50.0, "fp16": 50.0, "int8": 35.0}


@dataclasses.dataclass(frozen=True)
class Backend:
    """What one runtime can do.

    Attributes:
        devices: Device types it runs on.
        precisions: Precisions it runs.
        stochastic: Whether it can apply the paper's test-time dropout.
        package: The Python package it needs (None: PyTorch itself).
        bytes_per_value: Peak memory of a whole-image fp32 pass per ``channels x H x W``
            value (:func:`whole_image_peak_bytes`), fitted to ``benchmarks/inference.py``
            (both generators, 256x256 to 4K).
        runtime_bytes: The runtime's own memory on top of that.
    """

    devices: tuple[str, ...]
    precisions: tuple[str, ...]
    stochastic: bool
    package: str | None
    bytes_per_value: int
    runtime_bytes: int

    def available(self) -> bool:
        """Whether its package is installed."""
        return self.package is None or importlib.util.find_spec(self.package) is not None

    def supports(self, device_type: str, precision: str, stochastic: bool) -> bool:
        """Whether it can run on this device type, in this precision and dropout setting."""
        return (
            device_type in self.devices
            and precision in self.precisions
            and (self.stochastic or not stochastic)
        )


BACKENDS: dict[str, Backend] = {
    "torch": Backend(
        devices=("cpu", "cuda", "mps"),
        precisions=("fp32", "bf16", "fp16"),
        stochastic=True,
        package=None,
        bytes_per_value=16,
        runtime_bytes=0,
    ),
    "openvino": Backend(
        devices=("cpu",),
        precisions=("fp32", "bf16", "int8"),
        stochastic=False,
        package="openvino",
        bytes_per_value=12,
        runtime_bytes=100 * 2**20,
    ),
    "onnxruntime": Backend(
        devices=("cpu",),
        precisions=("fp32",),
        stochastic=False,
        package="onnxruntime",
        bytes_per_value=40,
        runtime_bytes=100 * 2**20,
    ),
}


def whole_image_peak_bytes(channels: int, height: int, width: int, backend: str = "torch") -> int:
    """Approximate peak memory of a whole-image fp32 pass in ``backend`` (process included):
    a few full-resolution ``channels``-wide activations alive at once.

    Args:
        channels: The network's widest full-resolution activation (``ngf`` for the generator).
        height, width: The image's size in pixels.
        backend: A key of :data:`BACKENDS`.
    """
    runtime = BACKENDS[backend]
    return (
        runtime.bytes_per_value * channels * height * width + runtime.runtime_bytes + PROCESS_BYTES
    )


def automatic_precisions(
    device_type: str, backend: str, stochastic: bool = False, tiled: bool = False
) -> list[str]:
    """What ``precision="auto"`` may mean, fastest first, before the agreement checks: fp16 on
    CUDA; on a CPU, OpenVINO's int8 where the CPU has int8 dot products (and NNCF is
    installed), then bf16 where it has native bf16; fp32 last.

    Args:
        device_type: ``"cpu"``, ``"cuda"`` or ``"mps"``.
        backend: The backend asked for (``"auto"`` or a key of :data:`BACKENDS`).
        stochastic, tiled: Test-time dropout and forced tiling run in PyTorch, in fp32.
    """
    if device_type == "cuda":
        return ["fp16", "fp32"]
    openvino = (
        device_type == "cpu"
        and backend in ("auto", "openvino")
        and BACKENDS["openvino"].available()
        and not stochastic
        and not tiled
    )
    int8 = (
        openvino
        and hardware.cpu_has_int8_dot_product()
        and importlib.util.find_spec("nncf") is not None
    )
    bf16 = openvino and hardware.cpu_has_native_bf16()
    return ["int8"] * int8 + ["bf16"] * bf16 + ["fp32"]


def choose_backend(device_type: str, precision: str, stochastic: bool) -> str:
    """The runtime ``"auto"`` means: OpenVINO where it applies and is installed (bf16 only on
    CPUs with native bf16, where it is fast; int8 always, PyTorch has none), else PyTorch."""
    openvino = BACKENDS["openvino"]
    if (
        openvino.supports(device_type, precision, stochastic)
        and openvino.available()
        and (precision != "bf16" or hardware.cpu_has_native_bf16())
    ):
        return "openvino"
    return "torch"


def check_backend(name: str, device_type: str, precision: str, stochastic: bool) -> None:
    """Refuse a runtime that is unknown, not installed, or cannot run this setting.

    Raises:
        ValueError: Naming what it supports.
    """
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; use auto, {', '.join(BACKENDS)}")
    backend = BACKENDS[name]
    if not backend.supports(device_type, precision, stochastic):
        raise ValueError(
            f"the {name} backend runs on {'/'.join(backend.devices)} in "
            f"{'/'.join(backend.precisions)}"
            + ("" if backend.stochastic else ", deterministic only (stochastic=False)")
            + f"; asked for {device_type}, {precision}, stochastic={stochastic}"
        )
    if not backend.available():
        raise ValueError(f"the {name} backend needs the {backend.package} package")


def check_settings(stochastic: bool, tile: int | None, compile: bool, backend: str) -> None:
    """Refuse settings that cannot be, or cannot go together, naming only what is wrong (no
    device or package is looked at: the command line checks these before any work).

    Raises:
        ValueError: Naming the setting.

    Examples:
        >>> check_settings(stochastic=False, tile=3, compile=False, backend="auto")
        Traceback (most recent call last):
        ...
        ValueError: tile must be at least 8 pixels, got 3
    """
    if tile is not None and tile < MIN_TILE:
        raise ValueError(f"tile must be at least {MIN_TILE} pixels, got {tile}")
    if tile is not None and stochastic:
        raise ValueError("tile and stochastic cannot be combined: tiled inference is deterministic")
    if compile and stochastic:
        raise ValueError(
            "compile and stochastic cannot be combined: the compiled network is deterministic"
        )
    if compile and backend not in ("auto", "torch"):
        raise ValueError(
            f"compile=True compiles the PyTorch network: backend auto or torch, not {backend}"
        )


def offered_precisions(device_type: str, default: str | None = None) -> tuple[str, ...]:
    """The precisions worth offering a user on this device: auto and fp32, plus the faster
    ones it runs well (fp16/bf16 on CUDA, fp16 on MPS, OpenVINO's int8 and bf16 on CPUs with
    int8 dot products and native bf16); ``default`` first."""
    offered = ["auto", "fp32"]
    if device_type == "cuda":
        offered += ["fp16", "bf16"]
    elif device_type == "mps":
        offered += ["fp16"]
    else:
        offered += ["int8"] * hardware.cpu_has_int8_dot_product()
        offered += ["bf16"] * hardware.cpu_has_native_bf16()
    if default is not None:
        offered = [default, *(p for p in offered if p != default)]
    return tuple(offered)


def agreement_image(height: int = 96, width: int = 128) -> np.ndarray:
    """A fixed textured RGB test image in [0, 1] (edges, gradients, fine stripes), on which an
    automatic precision is checked against fp32 before it is used.

    Shape:
        - Output: :math:`(H, W, 3)`, float32.
    """
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    stripes = 0.5 + 0.5 * np.sin(x * 0.9 + y * 0.3)
    rings = 0.5 + 0.5 * np.cos(np.hypot(x - width / 3, y - height / 2) * 0.35)
    blocks = ((x // 16 + y // 16) % 2).astype(np.float32)
    return np.stack([stripes, 0.6 * rings + 0.4 * blocks, (x + y) / (height + width)], axis=-1)


def eight_bit_psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR between two [0, 1] images after rounding both to 8 bits (inf if equal)."""
    a8, b8 = (np.rint(np.clip(im, 0, 1) * 255) for im in (a, b))
    mse = float(np.mean((a8 - b8) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)
