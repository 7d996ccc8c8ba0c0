"""Train DeblurGAN (WGAN-GP + perceptual loss) from a YAML config; torchrun for many processes."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from deblurgan.train.config import ConfigError, load_config
from deblurgan.train.loop import train
from deblurgan.train.vgg import VGGWeightsError


def add_arguments(parser: argparse.ArgumentParser) -> None:
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
        action="store_true",
        help="continue from RUN_DIR/checkpoints/latest.pt (models, optimisers, "
        "schedule, data order, random state)",
    )
    parser.add_argument(
        "--stop-at",
        type=int,
        metavar="N",
        help="end this session after iteration N (checkpointed; resume later)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config, args.overrides)
        train(config, resume=args.resume, progress=not args.quiet, stop_at=args.stop_at)
    except (ConfigError, VGGWeightsError, FileNotFoundError, ValueError) as err:
        print(f"deblurgan train: error: {err}", file=sys.stderr)
        return 2
    if not args.quiet:
        print(f"generator exported to {Path(config.run.dir) / 'generator.safetensors'}")
    return 0
