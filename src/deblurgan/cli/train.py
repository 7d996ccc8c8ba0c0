"""Train DeblurGAN (WGAN-GP + perceptual loss) from a YAML config; torchrun for many processes.

With ``--sprint``: a GPU sprint instead (:mod:`deblurgan.train.sprint`), a wall-clock budget
(``--minutes``) on a data pack, checkpoints and an evaluation table in ``--out``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from deblurgan.train.config import RESUMABLE_CHANGES, ConfigError, load_config, resume_config
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
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress bar and no messages (a sprint's progress lines, the path of the "
        "exported generator); errors still print",
    )
    sprint = parser.add_argument_group(
        "GPU sprint (scripts/gpu_sprint.sh)",
        "train for a time budget on a data pack (scripts/build_sprint_pack.py), every pair "
        "made on the device; --config is then a sprint config (default configs/sprint.yaml "
        "settings) and --resume names a folder holding an earlier sprint's state files",
    )
    sprint.add_argument("--sprint", action="store_true", help="run a GPU sprint")
    sprint.add_argument("--minutes", type=float, help="training budget (sets run.minutes)")
    sprint.add_argument("--pack", type=Path, help="the data pack (sets data.pack)")
    sprint.add_argument("--out", type=Path, help="output folder (sets run.out)")


def run_sprint_command(args: argparse.Namespace) -> int:
    """Run ``deblurgan train --sprint``; returns the exit status."""
    from deblurgan.train.sprint import run_sprint
    from deblurgan.train.sprint_config import load_sprint_config
    from deblurgan.train.sprint_files import LimitError

    overrides = list(args.overrides)
    for key, value in (("run.minutes", args.minutes), ("data.pack", args.pack),
                       ("run.out", args.out)):  # fmt: skip
        if value is not None:
            overrides.append(f"{key}={value}")
    try:
        if args.minutes is not None and not args.minutes >= 0:
            raise ConfigError(f"--minutes must be >= 0, got {args.minutes}")
        if args.resume is True:
            raise ConfigError("--sprint --resume needs the folder holding the sprint's state")
        config = load_sprint_config(args.config, overrides)
        run_sprint(config, resume_from=args.resume or None, say=(lambda _: None) if args.quiet
                   else lambda line: print(line, flush=True))  # fmt: skip
    except (ConfigError, LimitError, VGGWeightsError, FileNotFoundError, ValueError) as err:
        print(f"deblurgan train --sprint: error: {err}", file=sys.stderr)
        return 2
    return 0


def run(args: argparse.Namespace) -> int:
    """Run ``deblurgan train`` with parsed ``args``; returns the exit status."""
    if args.sprint:
        return run_sprint_command(args)
    sprint_only = [f"--{n}" for n in ("minutes", "pack", "out") if getattr(args, n) is not None]
    if sprint_only:
        print(f"deblurgan train: error: {', '.join(sprint_only)} need --sprint", file=sys.stderr)
        return 2
    from deblurgan.train.loop import train  # here: a sprint needs none of its data loading
    from deblurgan.train.run_folder import RunWriteError

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
    except RunWriteError as err:  # full disk, quota: the files written before are kept
        print(f"deblurgan train: error: {err}; the run's earlier files are kept", file=sys.stderr)
        return 1
    if not args.quiet:
        print(f"generator exported to {Path(config.run.dir) / 'generator.safetensors'}")
    return 0
