"""Detection benchmark (paper section 6.3): YOLOv3-tiny on blurred vs deblurred vs sharp images."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from deblurgan.blur.frames import FrameAveraging
from deblurgan.checkpoint import CheckpointError
from deblurgan.cli.options import (
    add_inference_arguments,
    inference_settings,
    int_range,
    method_from_args,
)
from deblurgan.data.eval_sets import find_eval_items
from deblurgan.data.synthesize import synthesize_frame_pairs
from deblurgan.detection.bench import detection_benchmark
from deblurgan.detection.darknet import DarknetError, load_darknet
from deblurgan.detection.report import summary_table, write_detection_report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``deblurgan detect-bench`` options to ``parser``."""
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", type=Path, help="paired dataset (GoPro layout, crops, list file)")
    source.add_argument(
        "--frames", type=Path, help="high-fps frames (folder or video): pairs are built"
    )
    low, high = FrameAveraging().n_avg
    parser.add_argument(
        "--n-avg",
        type=int_range,
        default=(low, high),
        metavar="LOW:HIGH",
        help=f"frames per pair with --frames (default: {low}:{high})",
    )
    parser.add_argument(
        "--detector-cfg", type=Path, required=True, help="Darknet .cfg (yolov3-tiny)"
    )
    parser.add_argument("--detector-weights", type=Path, required=True, help="Darknet .weights")
    parser.add_argument(
        "--detector-names", type=Path, help="class names, one per line (coco.names)"
    )
    parser.add_argument("--no-model", action="store_true", help="only no-deblur and --pred")
    parser.add_argument("--pred", type=Path, help="another method's outputs")
    parser.add_argument("--pred-name", default="other", help="label of --pred outputs")
    parser.add_argument("--conf", type=float, default=0.25, help="detection confidence threshold")
    parser.add_argument("--match-iou", type=float, default=0.5, help="IoU for a match (paper: 0.5)")
    parser.add_argument("--nms-iou", type=float, default=0.45, help="IoU of class-wise NMS")
    parser.add_argument("--pictures", type=int, default=6, help="pairs drawn with boxes")
    parser.add_argument(
        "-o", "--output", type=Path, default=Path("detection"), help="report folder"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    add_inference_arguments(parser, precision="fp32", method="network")  # reported: fp32 network


def run(args: argparse.Namespace) -> int:
    """Run ``deblurgan detect-bench`` with parsed ``args``; returns the exit status."""
    try:
        model, _ = load_darknet(args.detector_cfg, args.detector_weights)
        names = args.detector_names.read_text().split() if args.detector_names else None
        data = args.data
        if args.frames is not None:
            data = args.output / "pairs"
            averaging = FrameAveraging(n_avg=args.n_avg)
            synthesize_frame_pairs(args.frames, data, averaging, progress=not args.quiet)
        items, _ = find_eval_items(data, args.pred)
        method = None if args.no_model else method_from_args(args)
        summary, per_image, pictures = detection_benchmark(
            items,
            model,
            method,
            other_name=args.pred_name,
            confidence=args.conf,
            match_iou=args.match_iou,
            nms_iou=args.nms_iou,
            names=names,
            pictures=args.pictures,
            progress=not args.quiet,
        )
    except (CheckpointError, DarknetError, FileNotFoundError, OSError, ValueError) as err:
        print(f"deblurgan detect-bench: error: {err}", file=sys.stderr)
        return 2
    settings = {
        "data": str(data),
        "pairs": len(items),
        "detector": str(args.detector_cfg),
        "confidence": args.conf,
        "match_iou": args.match_iou,
        "nms_iou": args.nms_iou,
        **inference_settings(method),
    }
    path = write_detection_report(args.output, settings, summary, per_image, pictures)
    print(summary_table(summary))
    print(f"report: {path}")
    return 0
