"""The ``deblurgan`` command line: one subcommand per module, listed here."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Iterable, Sequence

from deblurgan.version import __version__

# name -> module with add_arguments(parser) and run(args) -> exit status. A command line
# imports only the module of the subcommand it names: the others would add seconds of
# start-up (SciPy, numba, matplotlib) to every ``deblurgan deblur``.
SUBCOMMANDS = {
    "deblur": "deblurgan.cli.deblur",
    "synth": "deblurgan.cli.synth",
    "train": "deblurgan.cli.train",
    "evaluate": "deblurgan.cli.evaluate",
    "detect-bench": "deblurgan.cli.detect_bench",
    "compare": "deblurgan.cli.compare",
    "export": "deblurgan.cli.export",
    "serve": "deblurgan.cli.serve",
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


def build_parser(commands: Iterable[str] = SUBCOMMANDS) -> argparse.ArgumentParser:
    """The ``deblurgan`` parser with the given subcommands (default: all)."""
    parser = argparse.ArgumentParser(
        prog="deblurgan",
        description="Blind motion deblurring with DeblurGAN (Kupyn et al., CVPR 2018).",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"deblurgan {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in commands:
        module = importlib.import_module(SUBCOMMANDS[name])
        doc = " ".join((module.__doc__ or "").strip().split("\n\n")[0].split())  # 1st paragraph
        module.add_arguments(
            sub.add_parser(name, help=doc, description=doc, formatter_class=HelpFormatter)
        )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``deblurgan`` console script; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    named = [argv[0]] if argv and argv[0] in SUBCOMMANDS else SUBCOMMANDS
    args = build_parser(named).parse_args(argv)
    try:
        return importlib.import_module(SUBCOMMANDS[args.command]).run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
