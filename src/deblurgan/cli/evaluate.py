"""Score deblurring on a paired dataset (PSNR/SSIM, runtime) and write a report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from deblurgan.checkpoint import CheckpointError
from deblurgan.cli.options import (
    add_inference_arguments,
    check_options_apply,
    inference_settings,
    method_from_args,
    non_negative_int,
)
from deblurgan.data.eval_sets import find_eval_items_and_missing
from deblurgan.evaluation.evaluate import evaluate, summarise
from deblurgan.evaluation.report import write_report
from deblurgan.io.atomic import (
    OutputFolderError,
    check_output_folder,
    status_leaving_no_empty_folder,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``deblurgan evaluate`` options to ``parser``."""
    parser.add_argument(
        "--data",
        required=True,
        type=Path,
        help="GoPro-layout root, crops folder (X_in/X_gt[/X_pred]), Levin folder, or list file",
    )
    parser.add_argument(
        "--pred", type=Path, help="also score another method's outputs in this folder"
    )
    parser.add_argument(
        "--pred-name", default="other", help="label of --pred outputs (default: other)"
    )
    parser.add_argument("--no-model", action="store_true", help="score only --pred / the inputs")
    parser.add_argument(
        "-o", "--output", type=Path, default=Path("evaluation"), help="report folder"
    )
    parser.add_argument("--y-channel", action="store_true", help="score BT.601 luma instead of RGB")
    parser.add_argument(
        "--border", type=non_negative_int, default=0, help="pixels cropped from each side first"
    )
    parser.add_argument(
        "--align",
        type=non_negative_int,
        default=None,
        metavar="PX",
        help="compensate integer shifts up to PX before scoring "
        "(default: 8 for Levin, whose blurred and sharp images are offset; else 0)",
    )
    parser.add_argument(
        "--align-subpixel",
        action="store_true",
        help="Levin et al.'s protocol instead of --align: bilinear shifts in 0.25 px steps "
        "within +-5 px, the best kept, scored on the image cropped by 15 px (or --border)",
    )
    parser.add_argument(
        "--nonblind",
        action="store_true",
        help="Levin: add Richardson-Lucy, Wiener and hyper-Laplacian deconvolution with the "
        "TRUE kernel (non-blind)",
    )
    add_inference_arguments(parser, precision="fp32", method="network")  # reported: fp32 network
    parser.add_argument(
        "--allow-missing",
        action="store_true",
        help="score the complete pairs when some partners (sharp images, --pred outputs) are "
        "missing; without it, a missing partner is an error (each is listed either way)",
    )
    parser.add_argument(
        "--gallery", type=non_negative_int, default=12, help="images shown in the gallery"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    """Run ``deblurgan evaluate`` with parsed ``args``; returns the exit status.

    A run that fails removes the report folder it created if it is still empty.
    """
    return status_leaving_no_empty_folder(args.output, lambda: _evaluate(args))


def _evaluate(args: argparse.Namespace) -> int:
    try:
        items, layout, missing = find_eval_items_and_missing(args.data, args.pred)
        for problem in missing:
            print(f"deblurgan evaluate: missing partner: {problem}", file=sys.stderr)
        if missing and not args.allow_missing:
            raise ValueError(
                f"{len(missing)} missing partner(s), listed above; add them, or score the "
                "complete pairs only with --allow-missing"
            )
        if not args.no_model:
            check_options_apply(args)
        check_output_folder(args.output)  # before any scoring, not after it
        method = None if args.no_model else method_from_args(args)
        if args.align_subpixel and args.align:
            raise ValueError("--align and --align-subpixel exclude each other: choose one")
        if args.align_subpixel:
            align = 0
        else:
            align = args.align if args.align is not None else (8 if layout == "levin" else 0)
        results = evaluate(
            items,
            method,
            other_name=args.pred_name,
            y_channel=args.y_channel,
            border=args.border,
            nonblind=args.nonblind,
            align=align,
            subpixel=args.align_subpixel,
            progress=not args.quiet,
        )
    except (CheckpointError, FileNotFoundError, OutputFolderError, ValueError) as err:
        print(f"deblurgan evaluate: error: {err}", file=sys.stderr)
        return 2
    settings = {
        "data": str(args.data),
        "layout": layout,
        "images": len(items),
        "missing_partners": len(missing),
        **inference_settings(method),
        "y_channel": args.y_channel,
        "border": args.border,
        "align": "levin subpixel (0.25 px steps, +-5 px, bilinear, 15 px crop)"
        if args.align_subpixel
        else align,
    }
    timed = [r.seconds for r in results if r.seconds is not None]
    if timed:
        settings["seconds_per_image"] = sum(timed) / len(timed)
    try:
        report = write_report(args.output, results, settings, args.gallery)
    except OSError as err:  # the folder was writable at the start: a full disk, say
        print(f"deblurgan evaluate: error: cannot write the report: {err}", file=sys.stderr)
        return 1
    for method, values in summarise(results).items():
        psnr, ssim, gain = values["psnr"], values["ssim"], values["psnr_gain"]
        print(f"{method:28} PSNR {psnr:6.2f} dB  SSIM {ssim:.4f}  gain {gain:+.2f} dB")
    if timed:
        runtime = ", ".join(
            str(settings[key])
            for key in ("method", "device", "precision", "backend")
            if key in settings
        )
        print(f"runtime {settings['seconds_per_image']:.3f} s per image ({runtime})")
    print(f"report: {report}")
    return 0
