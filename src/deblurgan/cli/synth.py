"""Build a paired blurred/sharp dataset from random camera-shake kernels or high-fps frames."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from deblurgan.blur.trajectory import DEFAULT_PRESET, PRESETS
from deblurgan.data.synthesize import (
    KernelBlurSettings,
    synthesize_frame_pairs,
    synthesize_kernel_pairs,
)
from deblurgan.inference.batch import collect_inputs
from deblurgan.io.images import IMAGE_SUFFIXES


def int_range(text: str) -> tuple[int, int]:
    """argparse type for ``N`` or ``LOW:HIGH`` (inclusive)."""
    low, _, high = text.partition(":")
    try:
        return int(low), int(high or low)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected N or LOW:HIGH, got {text!r}") from err


def _fractions(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError as err:
        raise argparse.ArgumentTypeError(
            f"expected fractions like 0.1,0.5,1, got {text!r}"
        ) from err
    if not all(0 < v <= 1 for v in values):
        raise argparse.ArgumentTypeError(f"exposure fractions must be in (0, 1], got {text!r}")
    return values


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "sharp",
        nargs="?",
        type=Path,
        metavar="SHARP_DIR",
        help="folder of sharp images to blur with random kernels",
    )
    parser.add_argument(
        "--frames",
        type=Path,
        metavar="FRAMES",
        help="instead: a folder of consecutive high-fps frames, or a video file",
    )
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        type=Path,
        metavar="OUT",
        help="dataset root: OUT/blur, OUT/sharp, OUT/kernels, OUT/manifest.jsonl",
    )
    parser.add_argument("--seed", type=int, default=0, help="base seed (default 0)")
    kernel = parser.add_argument_group("random kernels (SHARP_DIR)")
    kernel.add_argument("--per-image", type=int, default=1, metavar="K", help="pairs per image")
    kernel.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default=DEFAULT_PRESET,
        help=f"trajectory parameters (default {DEFAULT_PRESET})",
    )
    kernel.add_argument("--kernel-size", type=int, default=64, help="kernel canvas side")
    kernel.add_argument(
        "--exposures",
        type=_fractions,
        default=(0.1, 0.5, 1.0),
        help="exposure fractions to draw from (default 0.1,0.5,1)",
    )
    kernel.add_argument("--linear-light", action="store_true", help="blur in linear light")
    kernel.add_argument("--noise-std", type=float, default=0.0, help="Gaussian noise std in [0, 1]")
    kernel.add_argument(
        "--poisson-peak",
        type=float,
        default=None,
        help="shot noise: photons at white (smaller is noisier)",
    )
    kernel.add_argument("-r", "--recursive", action="store_true", help="descend into sub-folders")
    frames = parser.add_argument_group("frame averaging (--frames)")
    frames.add_argument(
        "--n-avg",
        type=int_range,
        default=(7, 13),
        metavar="LOW:HIGH",
        help="frames averaged per pair, drawn per pair (default 7:13)",
    )
    frames.add_argument("--gap", type=int, default=0, help="frames skipped between pairs")
    frames.add_argument("--gamma", type=float, default=2.2, help="display gamma (default 2.2)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    if (args.sharp is None) == (args.frames is None):
        print("deblurgan synth: error: give either SHARP_DIR or --frames", file=sys.stderr)
        return 2
    try:
        if args.frames is not None:
            report = synthesize_frame_pairs(
                args.frames,
                args.output,
                args.n_avg,
                args.seed,
                args.gap,
                args.gamma,
                progress=not args.quiet,
            )
        else:
            if not args.sharp.is_dir():
                raise ValueError(f"{args.sharp}: no such folder")
            inputs, _ = collect_inputs([str(args.sharp)], args.recursive)
            images = [(p, n) for p, n in inputs if p.suffix.lower() in IMAGE_SUFFIXES]
            if not images:
                raise ValueError(f"{args.sharp}: no images found")
            settings = KernelBlurSettings(
                per_image=args.per_image,
                seed=args.seed,
                preset=args.preset,
                kernel_size=args.kernel_size,
                exposures=args.exposures,
                linear_light=args.linear_light,
                noise_std=args.noise_std,
                poisson_peak=args.poisson_peak,
            )
            report = synthesize_kernel_pairs(images, args.output, settings, not args.quiet)
    except ValueError as err:
        print(f"deblurgan synth: error: {err}", file=sys.stderr)
        return 2
    return report.finish(args.quiet)
