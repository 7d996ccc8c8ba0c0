"""Choosing a device and a numeric precision, checked once at the edge."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from typing import Literal

import torch

from deblurgan.hardware import cpu_has_native_bf16

Precision = Literal["fp32", "bf16", "fp16", "int8"]

# Which reduced precisions are verified on which device type.
SUPPORTED_PRECISIONS: dict[str, tuple[str, ...]] = {
    "cpu": ("fp32", "bf16", "int8"),  # int8: OpenVINO only
    "cuda": ("fp32", "bf16", "fp16"),
    "mps": ("fp32", "fp16"),
}
_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """Turn ``"auto"`` into the best available device; check that others exist.

    Raises:
        ValueError: The device type is unknown or not available on this machine.
    """
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError as err:
        raise ValueError(f"unknown device {device!r}; use auto, cpu, cuda[:N] or mps") from err
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but CUDA is not available here")
    if resolved.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device {device!r} requested but MPS is not available here")
    if resolved.type not in SUPPORTED_PRECISIONS:
        raise ValueError(f"device type {resolved.type!r} is not supported; use cpu, cuda or mps")
    return resolved


def check_precision(precision: str, device: torch.device) -> Precision:
    """Validate that ``precision`` is offered on ``device``'s type.

    Raises:
        ValueError: Naming the precisions that are allowed there.
    """
    allowed = SUPPORTED_PRECISIONS[device.type]
    if precision not in allowed:
        raise ValueError(
            f"precision {precision!r} is not supported on {device.type}; choose one of {allowed}"
        )
    if device.type == "cpu" and precision == "bf16" and not cpu_has_native_bf16():
        warnings.warn(
            "this CPU has no native bf16 (no AVX512-BF16/AMX): bf16 convolutions fall back to "
            "a reference path that is about 100x slower than fp32 here; use fp32",
            RuntimeWarning,
            stacklevel=2,
        )
    return precision  # type: ignore[return-value]


@contextlib.contextmanager
def eval_mode(module: torch.nn.Module) -> Iterator[torch.nn.Module]:
    """``module`` in eval mode inside the block; every submodule's own ``training`` flag is
    restored afterwards, so a caller's network is left as it was.

    Examples:
        >>> net = torch.nn.Sequential(torch.nn.Dropout()).train()
        >>> with eval_mode(net):
        ...     net[0].training
        False
        >>> net[0].training
        True
    """
    flags = [(sub, sub.training) for sub in module.modules()]
    module.eval()
    try:
        yield module
    finally:
        for sub, training in flags:
            sub.training = training


def autocast(device: torch.device, precision: Precision) -> contextlib.AbstractContextManager:
    """Autocast context for ``precision``; a no-op for fp32."""
    if precision in ("fp32", "int8"):  # int8 runs in OpenVINO; PyTorch paths stay fp32
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=_DTYPES[precision])
