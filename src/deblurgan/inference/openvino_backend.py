"""OpenVINO runtime for the deterministic generator on CPU (the fastest CPU path measured).

The generator is converted once per checkpoint (a few seconds: PyTorch tracing),
with dynamic height and width, and the converted model is cached on disk
(:mod:`deblurgan.inference.model_cache`: checked against its manifest before use), keyed by a
hash of the weights, the architecture and the OpenVINO version. Later runs load it in well
under a second. Speed and agreement with PyTorch: ``benchmarks/inference.py`` (figures in
the README). Importing OpenVINO and compiling a converted model need no PyTorch
(:mod:`deblurgan.inference.openvino_runtime`).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch

from deblurgan.inference.int8 import RECIPE, quantize_int8
from deblurgan.inference.model_cache import XML, cache_dir, save_model_folder, verified_folder
from deblurgan.inference.openvino_runtime import (
    compile_for_cpu,
    openvino_module,
    read_model_file,
    telemetry_declined,
)
from deblurgan.nets.architectures import architecture_name
from deblurgan.nets.generator import Generator
from deblurgan.runtime import eval_mode


def model_key(generator: Generator) -> str:
    """Hash of the weights, the architecture (name and configuration) and the OpenVINO
    version."""
    ov = openvino_module()

    described = {"architecture": architecture_name(generator), "config": generator.config}
    digest = hashlib.sha256(json.dumps(described, sort_keys=True).encode())
    digest.update(ov.__version__.encode())
    for name, tensor in generator.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().float().contiguous().numpy().tobytes())
    return digest.hexdigest()[:24]


def model_folder(generator: Generator, precision: str, cache: Path | None = None) -> Path:
    """The cache folder of ``generator``'s converted model for ``precision`` (int8 has its
    own, quantised one; fp32 and bf16 share the fp32 conversion)."""
    key = model_key(generator)
    return (cache or cache_dir()) / (f"{key}-{RECIPE}" if precision == "int8" else key)


def converted_model(generator: Generator, precision: str = "fp32", cache: Path | None = None):
    """``generator`` as an OpenVINO model for ``precision``, from the cache when it holds an
    intact copy, else converted (and for int8 quantised by
    :func:`~deblurgan.inference.int8.quantize_int8`) and cached.

    Returns:
        The path of the cached ``.xml``, or the ``openvino.Model`` itself where the cache
        cannot be written (that only costs the conversion time next run).
    """
    ov = openvino_module()
    folder = model_folder(generator, precision, cache)
    if verified_folder(folder):
        return folder / XML
    fp32 = model_folder(generator, "fp32", cache)
    if verified_folder(fp32):
        model = read_model_file(fp32 / XML)
    else:
        with torch.no_grad(), telemetry_declined(), eval_mode(generator):
            model = ov.convert_model(
                generator, example_input=torch.zeros(1, 3, 64, 64), input=[(1, 3, -1, -1)]
            )
        model = _cached(model, fp32)
    if precision == "int8":
        if isinstance(model, Path):
            model = read_model_file(model)
        with telemetry_declined():
            model = _cached(quantize_int8(model), folder)
    return model


def _cached(model, folder: Path):
    """Save ``model`` into ``folder``; the path of its ``.xml`` there, or the model itself if
    the cache cannot be written."""
    ov = openvino_module()

    def write(staging: Path) -> None:
        ov.save_model(model, str(staging / XML), compress_to_fp16=False)

    return folder / XML if save_model_folder(write, folder) else model


def compile_openvino(generator: Generator, precision: str = "fp32", cache: Path | None = None):
    """A compiled OpenVINO CPU model of ``generator``: input (1, 3, H, W), H and W
    multiples of its ``size_multiple`` and at least its ``min_side`` (pad first), values in
    [-1, 1].

    Args:
        generator: The network; converted in eval mode (no dropout).
        precision: ``"fp32"``, ``"bf16"`` (the CPU must support bf16 natively) or
            ``"int8"`` (quantised by :func:`~deblurgan.inference.int8.quantize_int8` on first
            use, then cached).
        cache: Folder for converted models; ``None`` for
            :func:`~deblurgan.inference.model_cache.cache_dir`. An unwritable cache only costs
            the conversion time.
    """
    return compile_for_cpu(converted_model(generator, precision, cache), precision)
