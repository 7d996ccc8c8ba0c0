"""Exporting the generator to ONNX (dynamic height and width) and running it with onnxruntime."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import torch

from deblurgan.io.atomic import atomic_path
from deblurgan.nets.generator import Generator
from deblurgan.nets.tensors import MIN_SIDE, MULTIPLE, rgb_to_tensor, run_exported, tensor_to_rgb
from deblurgan.runtime import eval_mode


def export_onnx(generator: Generator, path: str | os.PathLike, opset: int = 17) -> Path:
    """Write the deterministic generator as ONNX; input ``blurred`` (1, 3, H, W) in [-1, 1].

    H and W are dynamic but, as for the network itself, must be multiples of its
    ``size_multiple`` and at least its ``min_side``: pad first
    (:func:`deblurgan.nets.tensors.pad_to_multiple`).
    """
    path = Path(path)
    example = torch.zeros(1, 3, 64, 64)
    with (
        atomic_path(path) as tmp,
        torch.no_grad(),
        eval_mode(generator) as model,
        warnings.catch_warnings(),
    ):
        # InstanceNorm's Python-side shape check is traced as a constant: harmless here.
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        torch.onnx.export(
            model,
            (example,),
            str(tmp),
            input_names=["blurred"],
            output_names=["restored"],
            dynamic_axes={
                "blurred": {2: "height", 3: "width"},
                "restored": {2: "height", 3: "width"},
            },
            opset_version=opset,
            dynamo=False,
        )
    return path


def onnx_forward(
    session, blurred: torch.Tensor, multiple: int = MULTIPLE, min_side: int = MIN_SIDE
) -> torch.Tensor:
    """Run an exported model on a batch of any size (padded and cropped back as in PyTorch).

    Args:
        session: An onnxruntime session of an exported model.
        blurred: Images in [-1, 1].
        multiple, min_side: The exported architecture's ``size_multiple`` and ``min_side``
            (the paper's generator's by default).

    Shape:
        - blurred: :math:`(B, 3, H, W)` in [-1, 1]; output the same shape, float32.
    """

    def run(image: np.ndarray) -> np.ndarray:
        return session.run(None, {"blurred": image})[0]

    return run_exported(run, blurred, multiple, min_side)


def onnx_restore(
    session, rgb: np.ndarray, multiple: int = MULTIPLE, min_side: int = MIN_SIDE
) -> np.ndarray:
    """Deblur an (H, W, 3) RGB image in [0, 1] with an onnxruntime session of an exported model
    (``multiple``, ``min_side``: as :func:`onnx_forward`)."""
    return tensor_to_rgb(onnx_forward(session, rgb_to_tensor(rgb), multiple, min_side))


def onnx_session(path: str | os.PathLike, threads: int | None = None):
    """An onnxruntime CPU session (``pip install onnxruntime``)."""
    try:
        import onnxruntime as ort
    except ModuleNotFoundError as err:
        raise RuntimeError("ONNX inference needs onnxruntime: pip install onnxruntime") from err
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
