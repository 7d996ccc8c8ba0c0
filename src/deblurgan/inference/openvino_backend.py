"""OpenVINO runtime for the deterministic generator on CPU (the fastest CPU path measured).

The generator is converted once per checkpoint (a few seconds: PyTorch tracing),
with dynamic height and width, and the converted model is cached on disk under
``$DEBLURGAN_CACHE`` (default ``~/.cache/deblurgan``), keyed by a hash of the
weights, the architecture and the OpenVINO version. Later runs load it in well
under a second. Speed and agreement with PyTorch: ``benchmarks/inference.py`` (figures in
the README).

OpenVINO (on import and when converting) and NNCF send anonymous usage statistics (Google
Analytics) and write a client ID under ``~/intel`` unless the user opted out; deblurgan imports,
converts and quantises with that declined (:func:`telemetry_declined`), so deblurring a photo
sends nothing and leaves no ID.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import torch

from deblurgan.inference.int8 import RECIPE, quantize_int8
from deblurgan.nets.generator import Generator

_LATENCY = {"PERFORMANCE_HINT": "LATENCY"}


@contextlib.contextmanager
def telemetry_declined():
    """Decline OpenVINO's usage statistics for this process while the block runs.

    OpenVINO and NNCF ask ``openvino_telemetry`` for consent; without a consent file (the usual
    case) it counts as given. Here every consent check answers "declined", and a telemetry
    object created before is switched off until the block ends; one created inside the block
    (it is one per process) stays declined. The user's own setting (``opt_in_out``) is neither
    read nor changed.
    """
    try:
        from openvino_telemetry import Telemetry
        from openvino_telemetry.utils.opt_in_checker import ConsentCheckResult, OptInChecker
    except ImportError:  # nothing would be sent
        yield
        return
    try:
        existing = Telemetry()  # the process's telemetry object, if one was created
    except RuntimeError:
        existing = None
    check, consent = OptInChecker.check, getattr(existing, "consent", None)
    OptInChecker.check = lambda self, *args, **kwargs: ConsentCheckResult.DECLINED
    if existing is not None:
        existing.consent = False
    try:
        yield
    finally:
        OptInChecker.check = check
        if existing is not None:
            existing.consent = consent


def _openvino():
    """The ``openvino`` module, imported with its usage statistics declined: importing it
    creates the client ID."""
    with telemetry_declined():
        import openvino
    return openvino


def cache_dir() -> Path:
    """Where converted models are kept (``$DEBLURGAN_CACHE`` or ``~/.cache/deblurgan``)."""
    root = os.environ.get("DEBLURGAN_CACHE") or Path(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "deblurgan"
    )
    return Path(root) / "openvino"


def model_key(generator: Generator) -> str:
    """Hash of the weights, the architecture and the OpenVINO version."""
    ov = _openvino()

    digest = hashlib.sha256(json.dumps(generator.config, sort_keys=True).encode())
    digest.update(ov.__version__.encode())
    for name, tensor in generator.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().float().contiguous().numpy().tobytes())
    return digest.hexdigest()[:24]


def compile_openvino(generator: Generator, precision: str = "fp32", cache: Path | None = None):
    """A compiled OpenVINO CPU model of ``generator``: input (1, 3, H, W), H and W
    multiples of 4 (pad first), values in [-1, 1].

    Args:
        generator: The network; converted in eval mode (no dropout).
        precision: ``"fp32"``, ``"bf16"`` (the CPU must support bf16 natively) or
            ``"int8"`` (quantised by :func:`~deblurgan.inference.int8.quantize_int8` on first
            use, then cached).
        cache: Folder for converted models; ``None`` for :func:`cache_dir`. An unwritable
            cache only costs the conversion time.
    """
    ov = _openvino()

    core = ov.Core()
    folder = cache or cache_dir()
    key = model_key(generator)
    quantized = folder / f"{key}-{RECIPE}" / "generator.xml"
    if precision == "int8" and quantized.is_file():
        return core.compile_model(core.read_model(str(quantized)), "CPU", _LATENCY)
    xml = folder / key / "generator.xml"
    if xml.is_file():
        model = core.read_model(str(xml))
    else:
        with torch.no_grad(), telemetry_declined():
            model = ov.convert_model(
                generator.eval(), example_input=torch.zeros(1, 3, 64, 64), input=[(1, 3, -1, -1)]
            )
        _save(model, xml)
    if precision == "int8":
        with telemetry_declined():
            model = quantize_int8(model)
        _save(model, quantized)
        return core.compile_model(model, "CPU", _LATENCY)
    hint = {"fp32": "f32", "bf16": "bf16"}[precision]
    return core.compile_model(model, "CPU", {**_LATENCY, "INFERENCE_PRECISION_HINT": hint})


def _save(model, xml: Path) -> None:
    """Write ``generator.xml`` + ``.bin`` into a temporary folder, then rename it into place."""
    ov = _openvino()

    try:
        xml.parent.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=xml.parent.parent, prefix=".tmp-"))
        ov.save_model(model, str(staging / xml.name), compress_to_fp16=False)
        try:
            staging.rename(xml.parent)
        except OSError:  # another process cached it first
            shutil.rmtree(staging, ignore_errors=True)
    except OSError:  # read-only or full cache: run without caching
        pass
