"""Options shared by several subcommands: argument types, and the method options that
``deblur``, ``evaluate`` and ``detect-bench`` all take (one definition, one method)."""

from __future__ import annotations

import argparse
from dataclasses import fields
from pathlib import Path
from typing import Any

from deblurgan.inference.cached_network import check_network_options
from deblurgan.inference.policy import BACKENDS, DEFAULT_MAX_MEMORY
from deblurgan.methods import METHODS, DeblurMethod, MethodOptions, build_method

AUTO_PRECISION_HELP = (
    "auto: int8 (OpenVINO) on CPUs with VNNI/AMX, else bf16 (OpenVINO) on CPUs with native "
    "bf16, fp16 on CUDA, else fp32, each only after it agrees with fp32 on a check image; "
    "fp32; bf16 on CPU/CUDA; fp16 on CUDA/MPS; int8 on CPUs (OpenVINO + NNCF)"
)
FIXED_PRECISION_HELP = (
    "fp32 by default here, so that reported numbers are the network's own; bf16 (CPU/CUDA), "
    "fp16 (CUDA/MPS), int8 (CPU, OpenVINO) or auto (the fastest that agrees with fp32, as in "
    "deblur) to measure those instead"
)
# The options each kind of method takes, and which kinds each method is (a new method is one
# line of METHOD_TAKES). Options given to a method that does not take them are refused.
OPTION_GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "network": (
        "for a method that runs the network",
        (
            "weights",
            "device",
            "precision",
            "backend",
            "compile",
            "stochastic",
            "seed",
            "tile",
            "max_memory",
        ),
    ),
    "kernel": ("for a method that estimates kernels", ("kernel_size", "save_kernel")),
}
METHOD_TAKES: dict[str, frozenset[str]] = {
    "network": frozenset({"network"}),
    "l0": frozenset({"kernel"}),
    "auto": frozenset({"network", "kernel"}),  # runs the network or l0, whichever fits
}
_DEFAULTS = "inference_option_defaults"  # where add_inference_arguments records its defaults
_UNITS = {"": 1, "B": 1, "K": 2**10, "KB": 2**10, "M": 2**20, "MB": 2**20, "G": 2**30, "GB": 2**30}


def int_range(text: str) -> tuple[int, int]:
    """argparse type for ``N`` or ``LOW:HIGH`` (inclusive)."""
    low, _, high = text.partition(":")
    try:
        return int(low), int(high or low)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected N or LOW:HIGH, got {text!r}") from err


def positive_int(text: str) -> int:
    """argparse type for an integer >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def non_negative_int(text: str) -> int:
    """argparse type for an integer >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def byte_size(text: str) -> int:
    """argparse type for sizes like ``3GB``, ``512MB`` or ``1.5G`` (binary units)."""
    number = text.upper().rstrip("BGKMI ")
    unit = text.upper()[len(number) :].replace("I", "").strip()
    try:
        return int(float(number) * _UNITS[unit])
    except (KeyError, ValueError) as err:
        raise argparse.ArgumentTypeError(
            f"expected a size like 3GB or 512MB, got {text!r}"
        ) from err


def odd_kernel_size(text: str) -> int:
    """argparse type for a kernel side: an odd integer >= 3."""
    value = int(text)
    if value < 3 or value % 2 == 0:
        raise argparse.ArgumentTypeError(f"must be odd and at least 3, got {value}")
    return value


def add_inference_arguments(
    parser: argparse.ArgumentParser, precision: str = "auto", method: str = "auto"
) -> None:
    """The options that build a deblurring method (see :func:`method_from_args`).

    Args:
        precision: The default of ``--precision`` (``"fp32"`` where numbers are reported).
        method: The default of ``--method``.
    """
    parser.add_argument(
        "--method",
        choices=list(METHODS),
        default=method,
        help="; ".join(f"{name}: {entry.summary}" for name, entry in METHODS.items())
        + f" (default: {method})",
    )
    parser.add_argument(
        "--kernel-size",
        type=odd_kernel_size,
        default=None,
        metavar="PX",
        help="l0 and auto: largest blur kernel side in pixels, odd (default: automatic, 31 px up "
        "to a 1240 px longer side, 2.5%% of the longer side above, at most a seventh of the "
        "shorter side; an automatic kernel is cropped to the size it needs)",
    )
    group = parser.add_argument_group("network model and runtime")
    group.add_argument(
        "--weights",
        type=Path,
        default=None,
        help="generator checkpoint (.safetensors, or the authors' .pth); "
        "default: the bundled model",
    )
    group.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    group.add_argument(
        "--precision",
        default=precision,
        choices=["auto", "fp32", "bf16", "fp16", "int8"],
        help=AUTO_PRECISION_HELP if precision == "auto" else FIXED_PRECISION_HELP,
    )
    group.add_argument(
        "--backend",
        choices=["auto", *BACKENDS],
        default="auto",
        help="runtime of whole images: auto (OpenVINO on a CPU where it applies, else "
        "PyTorch), torch, openvino, onnxruntime (needs onnxruntime)",
    )
    group.add_argument(
        "--compile",
        action="store_true",
        help="run PyTorch through torch.compile (implies --backend torch): each new image "
        "size compiles first (about a minute on a GPU), so it pays off on videos and folders "
        "of same-size frames; deterministic only",
    )
    group.add_argument(
        "--stochastic", action="store_true", help="the paper's test-time dropout (seeded)"
    )
    group.add_argument("--seed", type=int, default=0, help="dropout seed for --stochastic")
    group.add_argument(
        "--tile",
        type=int,
        default=None,
        metavar="PX",
        help="always use exact tiled inference with PX tiles (same result, less memory)",
    )
    group.add_argument(
        "--max-memory",
        type=byte_size,
        default=DEFAULT_MAX_MEMORY,
        metavar="SIZE",
        help="memory for a whole-image pass, e.g. 3GB; larger images are tiled exactly "
        "(default: 4GB)",
    )
    options = {name for _, names in OPTION_GROUPS.values() for name in names}
    parser.set_defaults(**{_DEFAULTS: {name: parser.get_default(name) for name in options}})


def method_from_args(
    args: argparse.Namespace, device: str | None = None, progress: bool = False
) -> DeblurMethod:
    """The method that :func:`add_inference_arguments`' options describe.

    Args:
        device: Overrides ``--device`` (one GPU per process under torchrun).
        progress: Progress bars for the stages of one image (blind deconvolution).

    Raises:
        ValueError: As :func:`check_options_apply`, or the method cannot be built.
    """
    check_options_apply(args)
    chosen = {f.name: getattr(args, f.name) for f in fields(MethodOptions) if hasattr(args, f.name)}
    options = MethodOptions(**{**chosen, "device": device or args.device, "progress": progress})
    return build_method(args.method, options)


def check_options_apply(args: argparse.Namespace) -> None:
    """Refuse options given to a method that does not take them (:data:`METHOD_TAKES`):
    the network's (``--weights``, ``--device``, ``--precision``, ...) with ``--method l0``,
    ``--kernel-size`` or ``--save-kernel`` with the network. An option counts as given
    when its value differs from its default. Then the network's options are checked
    (:func:`~deblurgan.inference.cached_network.check_network_options`), without loading
    it: ``auto``, which loads it only for a photo that needs it, refuses them before any
    photo, as ``network`` does.

    Raises:
        ValueError: Naming the options, what they are for, and the methods that take them;
            or a network option that is not valid here.
    """
    defaults = {**getattr(args, _DEFAULTS, {}), "save_kernel": False}
    given = {n for n, d in defaults.items() if hasattr(args, n) and getattr(args, n) != d}
    takes = METHOD_TAKES.get(args.method, frozenset(OPTION_GROUPS))  # unlisted: everything
    problems = []
    for group, (purpose, names) in OPTION_GROUPS.items():
        stray = [f"--{name.replace('_', '-')}" for name in names if name in given]
        if stray and group not in takes:
            methods = [m for m in METHODS if group in METHOD_TAKES.get(m, OPTION_GROUPS)]
            verb = "is" if len(stray) == 1 else "are"
            problems.append(
                f"{', '.join(stray)} {verb} {purpose} ({', '.join(methods)}), not {args.method}"
            )
    if problems:
        raise ValueError("; ".join(problems) + "; leave them out or choose another --method")
    if "network" in takes and hasattr(args, "device"):
        check_network_options(
            args.device, args.precision, args.backend, args.stochastic, args.tile, args.compile
        )


def inference_settings(method: DeblurMethod | None) -> dict[str, Any]:
    """What a report records of the method and runtime it ran with."""
    return {"method": "none"} if method is None else method.settings()
