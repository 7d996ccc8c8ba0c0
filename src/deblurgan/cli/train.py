"""Train DeblurGAN (WGAN-GP + perceptual loss) from a YAML config; torchrun for many processes."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from deblurgan.train.config import RESUMABLE_CHANGES, ConfigError, load_config, resume_config
from deblurgan.train.loop import train
from deblurgan.train.vgg import VGGWeightsError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``deblurgan train`` options to ``parser``."""
    parser.add_argument(
        "--config", type=Path, help="YAML config (see configs/); default: paper settings"
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key, e.g. --set optim.lr=2e-4 (repeatable)",
    )
    parser.add_argument(
        "--resume",
        nargs="?",
        const=True,
        default=False,
        metavar="RUN_DIR",
        help="continue a run from RUN_DIR/checkpoints/latest.pt (models, optimisers, "
        "schedule, data order, random state) with its saved config.json; RUN_DIR defaults "
        "to the config's run.dir; only "
        + ", ".join(sorted(RESUMABLE_CHANGES))
        + " may change (from the config file or --set)",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the outputs of an earlier run in run.dir (refused without it)",
    )
    parser.add_argument(
        "--stop-at",
        type=int,
        metavar="N",
        help="end this session after iteration N (checkpointed; resume later)",
    )
    parser.add_argument(
        "--stop-after",
        type=float,
        metavar="MINUTES",
        help="end this session at the first iteration that finishes after MINUTES of wall "
        "time (checkpointed; resume later): for a fixed time budget",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    """Run ``deblurgan train`` with parsed ``args``; returns the exit status."""
    try:
        if args.stop_after is not None and not args.stop_after >= 0:
            raise ConfigError(f"--stop-after must be >= 0 minutes, got {args.stop_after}")
        if args.resume:
            if args.overwrite:
                raise ConfigError("--resume and --overwrite contradict each other")
            run_dir = args.resume
            if run_dir is True:
                run_dir = load_config(args.config, args.overrides).run.dir
            config = resume_config(run_dir, args.config, args.overrides)
        else:
            config = load_config(args.config, args.overrides)
        train(
            config,
            resume=bool(args.resume),
            progress=not args.quiet,
            stop_at=args.stop_at,
            overwrite=args.overwrite,
            stop_after_s=None if args.stop_after is None else args.stop_after * 60,
        )
    except (ConfigError, VGGWeightsError, FileNotFoundError, ValueError) as err:
        print(f"deblurgan train: error: {err}", file=sys.stderr)
        return 2
    if not args.quiet:
        print(f"generator exported to {Path(config.run.dir) / 'generator.safetensors'}")
    return 0
