"""Deblur images, folders, glob patterns and videos at full resolution."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from deblurgan.cli.options import (
    add_inference_arguments,
    check_options_apply,
    method_from_args,
    positive_int,
)
from deblurgan.data.pairs import collect_inputs
from deblurgan.hardware import process_device, torchrun_place
from deblurgan.inference.batch import check_output_ext, check_suffix, plan_jobs, run_jobs
from deblurgan.io.atomic import OutputFolderError, check_output_folder
from deblurgan.io.images import DEFAULT_MAX_PIXELS
from deblurgan.io.media import FrameFn
from deblurgan.restoration import DeblurMethod


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``deblurgan deblur`` options to ``parser``."""
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
        type=_output_folder,
        metavar="DIR",
        help="folder for the results; named like the inputs",
    )
    parser.add_argument(
        "-r",
        "--recursive",
        action="store_true",
        help="descend into sub-folders (the output mirrors the tree); '**' in globs",
    )
    parser.add_argument(
        "--suffix",
        default="",
        type=_checked(check_suffix),
        help="appended to each output name, e.g. _sharp; a re-run skips inputs whose output "
        "already exists (--overwrite replaces them), and never takes earlier outputs as inputs",
    )
    parser.add_argument(
        "--ext",
        default=None,
        type=_checked(check_output_ext),
        help="output image format, e.g. .png (default: the input's); videos keep theirs",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace existing outputs (inputs are never overwritten)",
    )
    add_inference_arguments(parser)
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
        type=positive_int,
        default=1,
        metavar="N",
        help="video frames deblurred together by the network (helps on GPUs; default 1); "
        "l0 and auto take a video's frames in order, with one decision per shot",
    )
    parser.add_argument(
        "--save-kernel",
        action="store_true",
        help="l0: also write each estimated blur kernel beside its output as STEM.kernel.png "
        "(NAME.kernel.png, e.g. a.tif.kernel.png, where two outputs share a stem; 8-bit, "
        "scaled so its peak is white; divide by the sum to use it); like outputs, never "
        "replaced without --overwrite and never taken as inputs",
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress bars, and the summary (counts, decided and note lines) only if "
        "something failed",
    )


def _output_folder(text: str) -> Path:
    if not text:
        raise argparse.ArgumentTypeError("must not be empty; use -o . for the current folder")
    return Path(text)


def _checked(check: Callable[[str], str | None]) -> Callable[[str], str | None]:
    """An argparse type that refuses with ``check``'s ValueError message."""

    def argument(text: str) -> str | None:
        try:
            return check(text)
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from err

    return argument


def _pixels(text: str) -> int | None:
    """argparse type of ``--max-pixels``: a pixel count (``1e8`` allowed), 0 for no limit."""
    try:
        value = int(float(text))
    except (ValueError, OverflowError):
        raise argparse.ArgumentTypeError(
            f"expected a number of pixels such as 50000000 or 5e7 (0: no limit), got {text!r}"
        ) from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value or None


def run(args: argparse.Namespace) -> int:
    """Run ``deblurgan deblur`` with parsed ``args``; returns the exit status."""
    # Under torchrun every process takes every WORLD_SIZE-th file: no file is done twice,
    # and no communication is needed. Each process uses its own GPU when there are GPUs.
    rank, world = torchrun_place()
    device = process_device(args.device)
    try:
        check_options_apply(args)  # before anything is created
        check_output_folder(args.output)
        method = method_from_args(args, device, progress=not args.quiet and rank == 0)
    except (OutputFolderError, ValueError) as err:  # CheckpointError is a ValueError
        print(f"deblurgan deblur: error: {err}", file=sys.stderr)
        return 2
    if method.settings().get("device", "").startswith("cuda"):
        import torch  # imported only here: a cached CPU model runs without it

        torch.backends.cudnn.benchmark = True  # autotune convolutions once per image size
    inputs, missing = collect_inputs(args.inputs, args.recursive)
    jobs, report = plan_jobs(inputs, args.output, args.suffix, args.ext)
    report.failed[:0] = missing
    if world > 1:
        jobs = jobs[rank::world]
        if rank:  # problems found while planning are reported once, by rank 0
            report.failed = []
    run_jobs(
        jobs,
        method,
        report,
        args.overwrite,
        not args.quiet and rank == 0,
        args.batch,
        args.max_pixels,
        args.save_kernel,
        per_video,
    )
    return report.finish(args.quiet, prefix=f"rank {rank}/{world}: " if world > 1 else "")


def per_video(method: DeblurMethod) -> FrameFn:
    """What one video's frames go through: :func:`deblurgan.methods.video.for_video`
    (imported here, not at start-up)."""
    from deblurgan.methods.video import for_video

    return for_video(method)
