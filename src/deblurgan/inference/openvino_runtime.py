"""OpenVINO without PyTorch: importing it with its usage statistics declined, and compiling
a converted model for the CPU.

OpenVINO (on import and when converting) and NNCF send anonymous usage statistics (Google
Analytics) and write a client ID under ``~/intel`` unless the user opted out; deblurgan imports,
converts and quantises with that declined (:func:`telemetry_declined`), so deblurring a photo
sends nothing and leaves no ID.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import Any

LATENCY = {"PERFORMANCE_HINT": "LATENCY"}
_TELEMETRY_LOCK = threading.RLock()  # the consent check is patched process-wide


@contextlib.contextmanager
def telemetry_declined():
    """Decline OpenVINO's usage statistics for this process while the block runs.

    OpenVINO and NNCF ask ``openvino_telemetry`` for consent; without a consent file (the usual
    case) it counts as given. Here every consent check answers "declined", and a telemetry
    object created before is switched off until the block ends; one created inside the block
    (it is one per process) stays declined. The user's own setting (``opt_in_out``) is neither
    read nor changed.
    """
    with _TELEMETRY_LOCK:
        yield from _declined()


def _declined():
    """The body of :func:`telemetry_declined`, under its lock."""
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


def openvino_module():
    """The ``openvino`` module, imported with its usage statistics declined: importing it
    creates the client ID."""
    with telemetry_declined():
        import openvino
    return openvino


def model_from_bytes(xml: bytes, weights: bytes) -> Any:
    """An ``openvino.Model`` from the bytes of its ``.xml`` and ``.bin``, held in memory (not
    a mapped file, which a truncation could turn into SIGBUS while the model runs)."""
    return openvino_module().Core().read_model(xml, weights)


def read_model_file(xml: str | Path) -> Any:
    """An ``openvino.Model`` from a saved ``.xml`` and the ``.bin`` beside it, read into
    memory (see :func:`model_from_bytes`)."""
    xml = Path(xml)
    return model_from_bytes(xml.read_bytes(), xml.with_suffix(".bin").read_bytes())


def compile_for_cpu(model: Any, precision: str) -> Any:
    """Compile an OpenVINO model (or the path of its ``.xml``) for the CPU, tuned for latency.

    Args:
        model: An ``openvino.Model``, or a path to a saved one (read into memory:
            :func:`read_model_file`).
        precision: ``"int8"`` (a quantised model: its own precisions), ``"bf16"`` (the CPU
            must support bf16 natively) or ``"fp32"``.

    Returns:
        A compiled model: called with a ``(1, 3, H, W)`` float32 array, ``[0]`` of the result
        is the output.
    """
    ov = openvino_module()
    core = ov.Core()
    if isinstance(model, (str, Path)):
        try:
            model = read_model_file(model)
        except OSError as err:  # as OpenVINO reports a file it cannot read
            raise RuntimeError(f"cannot read the model {model}: {err}") from err
    if precision == "int8":
        return core.compile_model(model, "CPU", LATENCY)
    hint = {"fp32": "f32", "bf16": "bf16"}[precision]
    return core.compile_model(model, "CPU", {**LATENCY, "INFERENCE_PRECISION_HINT": hint})
