"""The bundled model as shipped OpenVINO models: the network of a core install, without PyTorch.

Beside ``deblurgan_default.safetensors`` the package ships its conversion for OpenVINO (fp32
graph, fp16-stored weights: the checkpoint's own values, so nothing is rounded; its ``.bin``
is not shipped but assembled in memory from the checkpoint's tensors and the few constants
of :data:`LAYOUT`, so the weights are in the package once), its int8
quantisation (:func:`~deblurgan.inference.int8.quantize_int8`, the same recipe as a first run
with PyTorch makes), and a reference: eager PyTorch's fp32 output on
:func:`~deblurgan.inference.policy.agreement_image`. Without PyTorch,
:func:`bundled_network` checks each shipped model against that reference instead of against
eager PyTorch (fp32 must agree to :data:`FP32_AGREEMENT_DB`, a reduced precision chosen by
``"auto"`` to :data:`~deblurgan.inference.policy.AGREEMENT_DB`) and runs it.

After retraining the bundled model, regenerate these files with ``python -m
tests.inference.test_bundled_ir`` (needs PyTorch and NNCF); a test keeps them in step.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import warnings
from importlib import resources
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import numpy as np

import deblurgan.hardware as hardware
from deblurgan.inference.model_cache import Verdict
from deblurgan.inference.policy import AGREEMENT_DB, agreement_image, eight_bit_psnr

DESCRIPTION = "deblurgan_default_openvino.json"
REFERENCE = "deblurgan_default_reference.npy"
MODELS = {"fp32": "deblurgan_default_fp32", "int8": "deblurgan_default_int8"}  # .xml + .bin
LAYOUT = "deblurgan_default_fp32_layout.json"  # how the fp32 model's .bin is assembled
# 8-bit PSNR the shipped fp32 model must reach against the stored eager-fp32 reference (it
# measured inf: identical 8-bit output); less means a damaged or stale installation.
FP32_AGREEMENT_DB = 50.0


@dataclasses.dataclass(frozen=True)
class BundledDescription:
    """What the shipped conversion was made from and what running it needs.

    Attributes:
        weights_sha256: SHA-256 of the ``.safetensors`` file it was converted from.
        channels, multiple, min_side: The network's memory width and padding (as a
            :class:`~deblurgan.inference.model_cache.Verdict`'s).
        int8_recipe: The quantisation recipe of the int8 model.
    """

    weights_sha256: str
    channels: int
    multiple: int
    min_side: int
    int8_recipe: str


def assets() -> Path:
    """The package's assets folder."""
    return Path(str(resources.files("deblurgan") / "assets"))


def read_description(folder: Path | None = None) -> BundledDescription:
    """The shipped conversion's description.

    Raises:
        ValueError: It is missing or unreadable (an installation without it).
    """
    path = (folder or assets()) / DESCRIPTION
    try:
        return BundledDescription(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError) as err:
        raise ValueError(
            f"this installation of deblurgan has no usable OpenVINO model of the bundled "
            f"network ({path}: {err}); reinstall deblurgan"
        ) from err


def tensor_bytes(checkpoint: bytes) -> dict[str, bytes]:
    """Each tensor's raw bytes in a ``.safetensors`` file's bytes (8 bytes of header length,
    a JSON header of dtypes, shapes and data offsets, then the data), without PyTorch."""
    size = int.from_bytes(checkpoint[:8], "little")
    start = 8 + size
    header = json.loads(checkpoint[8:start])
    return {
        name: checkpoint[start + entry["data_offsets"][0] : start + entry["data_offsets"][1]]
        for name, entry in header.items()
        if name != "__metadata__"
    }


def weights_layout(xml: bytes, weights: bytes, checkpoint: bytes) -> dict:
    """How to assemble an OpenVINO model's ``.bin`` (``weights``) from a checkpoint: each
    constant of the model's ``xml`` (its ``offset`` and ``size`` in the ``.bin``) named as
    one of the checkpoint's tensors where it is one, else stored as hex (small constants:
    paddings, axes); with the size and SHA-256 of the whole."""
    pieces = [
        (int(data.get("offset")), int(data.get("size")))
        for layer in ElementTree.fromstring(xml).iter("layer")
        if layer.get("type") == "Const" and (data := layer.find("data")) is not None
    ]
    by_bytes = {data: name for name, data in tensor_bytes(checkpoint).items()}
    segments = []
    for offset, size in sorted(set(pieces)):
        chunk = weights[offset : offset + size]
        name = by_bytes.get(chunk)
        segments.append([offset, "tensor", name] if name else [offset, "hex", chunk.hex()])
    return {
        "size": len(weights),
        "sha256": hashlib.sha256(weights).hexdigest(),
        "segments": segments,
    }


def fp32_weights(folder: Path, checkpoint: Path) -> bytes:
    """The shipped fp32 model's ``.bin``, assembled from ``checkpoint``'s tensors as the
    folder's :data:`LAYOUT` says.

    Raises:
        ValueError: The layout is missing, or the result is not the ``.bin`` it describes
            (a damaged installation, or a checkpoint other than the one converted).
    """
    try:
        layout = json.loads((folder / LAYOUT).read_text())
        tensors = tensor_bytes(checkpoint.read_bytes())
        weights = bytearray(layout["size"])
        for offset, kind, value in layout["segments"]:
            chunk = tensors[value] if kind == "tensor" else bytes.fromhex(value)
            weights[offset : offset + len(chunk)] = chunk
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ValueError(
            f"cannot assemble the bundled OpenVINO model's weights ({folder / LAYOUT}: "
            f"{err!r}); reinstall deblurgan"
        ) from err
    if hashlib.sha256(weights).hexdigest() != layout["sha256"]:
        raise ValueError(
            f"the bundled OpenVINO model's weights assembled from {checkpoint} are not the "
            "converted ones: a damaged installation; reinstall deblurgan"
        )
    return bytes(weights)


def _candidates(precision: str) -> list[str]:
    """What ``precision`` may mean here without PyTorch, fastest first (as
    :func:`~deblurgan.inference.policy.automatic_precisions`)."""
    if precision != "auto":
        return [precision]
    return (
        ["int8"] * hardware.cpu_has_int8_dot_product()
        + ["bf16"] * hardware.cpu_has_native_bf16()
        + ["fp32"]
    )


def bundled_network(precision: str = "auto", max_memory: int | None = None) -> Any:
    """The bundled model from its shipped OpenVINO conversion, checked against the stored
    reference, without PyTorch.

    Args:
        precision: ``"auto"`` (int8 on CPUs with int8 dot products, bf16 on CPUs with native
            bf16, each only if it agrees with the reference to
            :data:`~deblurgan.inference.policy.AGREEMENT_DB`; else fp32), ``"int8"``,
            ``"bf16"`` or ``"fp32"``.
        max_memory: Bytes a whole-image pass may use. None: the default, or three quarters
            of the memory available now where that is more: without PyTorch there are no
            exact tiles, so an image over the budget is refused (naming the extra).

    Returns:
        A :class:`~deblurgan.inference.cached_network.CachedNetwork`.

    Raises:
        ValueError: An unknown precision, or a shipped model that is missing or does not
            agree with its reference (a damaged installation).
    """
    from deblurgan.inference.cached_network import CachedNetwork
    from deblurgan.inference.openvino_runtime import compile_for_cpu, model_from_bytes
    from deblurgan.inference.policy import DEFAULT_MAX_MEMORY
    from deblurgan.inference.weights import default_weights_path

    if precision not in ("auto", "fp32", "bf16", "int8"):
        raise ValueError(f"precision {precision!r}: use auto, fp32, bf16 or int8 on a CPU")
    if max_memory is None:
        available = hardware.available_memory() or 0
        max_memory = max(DEFAULT_MAX_MEMORY, available * 3 // 4)
    folder, description = assets(), read_description()
    reference = np.load(folder / REFERENCE)
    candidates = _candidates(precision)
    weights = None  # the fp32 model's .bin, assembled once
    for candidate in candidates:
        xml = folder / (MODELS.get(candidate, MODELS["fp32"]) + ".xml")
        try:
            model = xml  # the int8 model's own .bin is shipped
            if candidate != "int8":
                weights = weights or fp32_weights(folder, default_weights_path())
                model = model_from_bytes(xml.read_bytes(), weights)
            compiled = compile_for_cpu(model, candidate)
        except (RuntimeError, OSError) as err:
            raise ValueError(f"cannot read the bundled OpenVINO model {xml}: {err}") from err
        verdict = Verdict(
            model=xml.stem,
            precision=candidate,
            agreement_db=None,
            channels=description.channels,
            multiple=description.multiple,
            min_side=description.min_side,
        )
        network = CachedNetwork(
            compiled,
            verdict,
            default_weights_path(),
            "bundled",
            max_memory,
            description.weights_sha256,
        )
        agreement = eight_bit_psnr(network.run_whole(agreement_image()), reference)
        bar = FP32_AGREEMENT_DB if candidate == "fp32" else AGREEMENT_DB[candidate]
        if candidate == "fp32" and agreement < bar:
            raise ValueError(
                f"the bundled OpenVINO model agrees with its reference to only {agreement:.1f} "
                f"dB (at least {bar:.0f} expected): a damaged installation; reinstall deblurgan"
            )
        if agreement >= bar or precision != "auto":
            return network
        warnings.warn(
            f"{candidate} agrees with fp32 to only {agreement:.1f} dB on the check image; "
            "not using it",
            stacklevel=2,
        )
    raise AssertionError("fp32 is the last candidate, and it agrees or raises")
