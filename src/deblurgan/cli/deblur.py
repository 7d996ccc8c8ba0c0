"""Deblur images, folders, glob patterns and videos at full resolution."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import torch

from deblurgan.checkpoint import CheckpointError
from deblurgan.data.pairs import collect_inputs
from deblurgan.inference.batch import plan_jobs, run_jobs
from deblurgan.inference.deblurrer import Deblurrer
from deblurgan.io.atomic import OutputFolderError, check_output_folder
from deblurgan.io.images import DEFAULT_MAX_PIXELS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="image or video files, folders, or glob patterns (quote them)",
    )
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        type=Path,
        metavar="DIR",
        help="folder for the results; named like the inputs",
    )
    parser.add_argument(
        "-r",
        "--recursive",
        action="store_true",
        help="descend into sub-folders (the output mirrors the tree); '**' in globs",
    )
    parser.add_argument("--suffix", default="", help="appended to each output name, e.g. _sharp")
    parser.add_argument(
        "--ext",
        default=None,
        help="output image format, e.g. .png (default: the input's); videos keep theirs",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace existing outputs (inputs are never overwritten)",
    )
    parser.add_argument(
        "--weights",
        type=Path,
        default=None,
        help="generator checkpoint (.safetensors, or the authors' .pth); "
        "default: the bundled model",
    )
    parser.add_argument(
        "--device", default="auto", help="auto, cpu, cuda, cuda:N or mps (default: auto)"
    )
    parser.add_argument(
        "--precision",
        default="fp32",
        choices=["fp32", "bf16", "fp16"],
        help="fp32 (default); bf16 on CPU/CUDA; fp16 on CUDA/MPS",
    )
    parser.add_argument(
        "--backend",
        choices=["auto", "torch", "openvino", "onnxruntime"],
        default="auto",
        help="runtime on the CPU: auto (default: OpenVINO for deterministic fp32, 1.2-2.3x "
        "eager PyTorch here), torch, openvino, onnxruntime (needs onnx and onnxruntime)",
    )
    parser.add_argument(
        "--stochastic",
        action="store_true",
        help="the paper's test-time dropout (default: deterministic)",
    )
    parser.add_argument("--seed", type=int, default=0, help="dropout seed for --stochastic")
    parser.add_argument(
        "--tile",
        type=int,
        default=None,
        metavar="PX",
        help="always use exact tiled inference with PX tiles (same result, less memory)",
    )
    parser.add_argument(
        "--max-memory",
        type=_size,
        default=None,
        metavar="SIZE",
        help="memory for a whole-image pass, e.g. 3GB; larger images are tiled "
        "exactly (default 4GB)",
    )
    parser.add_argument(
        "--max-pixels",
        type=_pixels,
        default=DEFAULT_MAX_PIXELS,
        metavar="N",
        help="refuse larger images, a guard against decompression bombs; 0: no limit "
        f"(default {DEFAULT_MAX_PIXELS:,}, Pillow's; large images are tiled)",
    )
    parser.add_argument(
        "--batch",
        type=_positive,
        default=1,
        metavar="N",
        help="video frames deblurred together (helps on GPUs; default 1)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _pixels(text: str) -> int | None:
    value = int(float(text))
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value or None


def _size(text: str) -> int:
    units = {
        "": 1,
        "B": 1,
        "K": 2**10,
        "KB": 2**10,
        "M": 2**20,
        "MB": 2**20,
        "G": 2**30,
        "GB": 2**30,
    }
    number = text.upper().rstrip("BGKMI ")
    unit = text.upper()[len(number) :].replace("I", "").strip()
    try:
        return int(float(number) * units[unit])
    except (KeyError, ValueError) as err:
        raise argparse.ArgumentTypeError(
            f"expected a size like 3GB or 512MB, got {text!r}"
        ) from err


def run(args: argparse.Namespace) -> int:
    # Under torchrun every process takes every WORLD_SIZE-th file: no file is done twice,
    # and no communication is needed. Each process uses its own GPU when there are GPUs.
    rank, world = int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))
    device = args.device
    if world > 1 and device in ("auto", "cuda") and torch.cuda.is_available():
        device = f"cuda:{os.environ.get('LOCAL_RANK', rank % torch.cuda.device_count())}"
    try:
        check_output_folder(args.output)
        deblurrer = Deblurrer.from_checkpoint(
            args.weights,
            device=device,
            precision=args.precision,
            stochastic=args.stochastic,
            seed=args.seed,
            tile=args.tile,
            backend=args.backend,
            **({"max_memory": args.max_memory} if args.max_memory else {}),
        )
    except (CheckpointError, OutputFolderError, ValueError) as err:
        print(f"deblurgan deblur: error: {err}", file=sys.stderr)
        return 2
    if deblurrer.device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # autotune convolutions once per image size
    inputs, missing = collect_inputs(args.inputs, args.recursive)
    jobs, report = plan_jobs(inputs, args.output, args.suffix, args.ext)
    report.failed[:0] = missing
    if world > 1:
        jobs = jobs[rank::world]
        if rank:  # problems found while planning are reported once, by rank 0
            report.failed = []
    run_jobs(jobs, deblurrer, report, args.overwrite, not args.quiet and rank == 0, args.batch,
             args.max_pixels)  # fmt: skip
    return report.finish(args.quiet, prefix=f"rank {rank}/{world}: " if world > 1 else "")
