"""The ``deblurgan`` command line: one subcommand per module, listed here."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from deblurgan.cli import (
    compare,
    deblur,
    detect_bench,
    evaluate,
    export,
    serve,
    synth,
    train,
)
from deblurgan.version import __version__

# name -> module with add_arguments(parser) and run(args) -> exit status
SUBCOMMANDS = {
    "deblur": deblur,
    "synth": synth,
    "train": train,
    "evaluate": evaluate,
    "detect-bench": detect_bench,
    "compare": compare,
    "export": export,
    "serve": serve,
}


class HelpFormatter(argparse.HelpFormatter):
    """Shows an option's default where its help does not already say it."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if (
            action.option_strings
            and action.default not in (None, False, "", argparse.SUPPRESS)
            and "default" not in text
        ):
            text += " (default: %(default)s)"
        return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deblurgan",
        description="Blind motion deblurring with DeblurGAN (Kupyn et al., CVPR 2018).",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"deblurgan {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module in SUBCOMMANDS.items():
        doc = " ".join((module.__doc__ or "").strip().split("\n\n")[0].split())  # 1st paragraph
        module.add_arguments(
            sub.add_parser(name, help=doc, description=doc, formatter_class=HelpFormatter)
        )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``deblurgan`` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return SUBCOMMANDS[args.command].run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
