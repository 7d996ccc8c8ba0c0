"""Export the generator: to ONNX (dynamic height/width, checked with onnxruntime), or to a
compact float16 safetensors checkpoint (how the bundled model is made)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from deblurgan.checkpoint import CheckpointError, load_generator, read_metadata, save_generator
from deblurgan.inference.export import export_onnx
from deblurgan.inference.export_check import verify_export
from deblurgan.inference.weights import default_weights_path
from deblurgan.io.images import ImageReadError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``deblurgan export`` options to ``parser``."""
    parser.add_argument(
        "--format",
        choices=["onnx", "safetensors-fp16"],
        default="onnx",
        help="onnx (default), or safetensors-fp16: half-size weights, training record kept",
    )
    parser.add_argument(
        "--weights", type=Path, help="generator checkpoint (default: the bundled model)"
    )
    parser.add_argument(
        "-o", "--output", type=Path, required=True, help="e.g. deblurgan.onnx, small.safetensors"
    )
    parser.add_argument("--opset", type=int, default=17, help="ONNX opset version")
    parser.add_argument(
        "--verify",
        type=Path,
        nargs="*",
        default=[],
        metavar="IMAGE",
        help="compare the exported model's output with the original's on these images",
    )


def run(args: argparse.Namespace) -> int:
    """Run ``deblurgan export`` with parsed ``args``; returns the exit status."""
    try:
        weights = args.weights or default_weights_path()
        generator = load_generator(weights)
        if args.format == "onnx":
            export_onnx(generator, args.output, args.opset)
        else:
            training = (
                read_metadata(weights)["training"] if weights.suffix == ".safetensors" else {}
            )
            save_generator(generator, args.output, training, dtype=torch.float16)
        print(f"wrote {args.output}")
        for agreement in verify_export(generator, args.output, args.format == "onnx", args.verify):
            print(f"{agreement.image}: {agreement.runtime} vs PyTorch PSNR {agreement.psnr:.1f} dB")
    except (CheckpointError, ImageReadError, RuntimeError, ValueError) as err:
        print(f"deblurgan export: error: {err}", file=sys.stderr)
        return 2
    return 0
