"""Export the generator to ONNX (dynamic height/width), optionally checked with onnxruntime."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from deblurgan.checkpoint import CheckpointError, load_generator
from deblurgan.inference.deblurrer import Deblurrer
from deblurgan.inference.export import export_onnx, onnx_restore, onnx_session
from deblurgan.inference.weights import default_weights_path
from deblurgan.io.images import ImageReadError, read_image
from deblurgan.metrics import psnr


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=["onnx"], default="onnx")
    parser.add_argument(
        "--weights", type=Path, help="generator checkpoint (default: the bundled model)"
    )
    parser.add_argument("-o", "--output", type=Path, required=True, help="e.g. deblurgan.onnx")
    parser.add_argument("--opset", type=int, default=17)
    parser.add_argument(
        "--verify",
        type=Path,
        nargs="*",
        default=[],
        metavar="IMAGE",
        help="compare onnxruntime's output with PyTorch's on these images",
    )


def run(args: argparse.Namespace) -> int:
    try:
        generator = load_generator(args.weights or default_weights_path())
        export_onnx(generator, args.output, args.opset)
        print(f"wrote {args.output}")
        if args.verify:
            session, reference = onnx_session(args.output), Deblurrer(generator)
            for path in args.verify:
                rgb = read_image(path).rgb
                agreement = psnr(onnx_restore(session, rgb), reference(rgb))
                print(f"{path}: onnxruntime vs PyTorch PSNR {agreement:.1f} dB")
    except (CheckpointError, ImageReadError, RuntimeError, ValueError) as err:
        print(f"deblurgan export: error: {err}", file=sys.stderr)
        return 2
    return 0
