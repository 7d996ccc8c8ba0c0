"""Make one labelled side-by-side picture (blurred | restored [| sharp]) with a zoomed inset."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

from deblurgan.evaluation.pictures import side_by_side
from deblurgan.io.images import ImageData, ImageReadError, read_image, write_image


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``deblurgan compare`` options to ``parser``."""
    parser.add_argument(
        "images",
        nargs="+",
        type=Path,
        metavar="IMAGE",
        help="images of the same size, left to right (e.g. blurred restored sharp)",
    )
    parser.add_argument("--labels", nargs="+", help="one label per image (default: file names)")
    parser.add_argument(
        "--region",
        type=int,
        nargs=3,
        metavar=("TOP", "LEFT", "SIDE"),
        help="square to enlarge (default: the most detailed one of the last image)",
    )
    parser.add_argument("-o", "--output", type=Path, required=True, help="output picture (.png)")


def run(args: argparse.Namespace) -> int:
    """Run ``deblurgan compare`` with parsed ``args``; returns the exit status."""
    labels = args.labels or [p.stem for p in args.images]
    if len(labels) != len(args.images):
        print("deblurgan compare: error: give one label per image", file=sys.stderr)
        return 2
    overwritten = input_at(args.output, args.images)
    if overwritten is not None:
        print(
            f"deblurgan compare: error: output {args.output} would overwrite the input "
            f"{overwritten}; choose another -o",
            file=sys.stderr,
        )
        return 2
    try:
        panels = {label: read_image(path).rgb for label, path in zip(labels, args.images)}
        picture = side_by_side(panels, tuple(args.region) if args.region else None)
        write_image(args.output, ImageData(rgb=picture.astype(np.float32) / 255))
    except (ImageReadError, ValueError) as err:
        print(f"deblurgan compare: error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {args.output}")
    return 0


def input_at(output: Path, images: list[Path]) -> Path | None:
    """The input that writing ``output`` would replace: the same file under any name (the
    same path, another spelling of it, or a link to it), else None."""
    for image in images:
        try:
            if os.path.samefile(output, image):
                return image
        except OSError:  # either does not exist: not the same file
            continue
    return None
