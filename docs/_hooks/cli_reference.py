"""The command reference, written from the ``deblurgan`` argparse parsers themselves.

One Markdown page per subcommand: its summary, its usage line, and every argument under the
heading of its argparse group, with the help text exactly as ``deblurgan SUBCOMMAND --help``
prints it (the package's help formatter adds the default where the help does not name one).
Nothing here is written by hand, so the reference cannot drift from the code:
``docs/_hooks/mkdocs_hooks.py`` calls :func:`reference_pages` on every ``mkdocs build``, and
``tests/test_docs.py`` compares the pages with ``--help``.

Run as a script to print one page: ``python docs/_hooks/cli_reference.py deblur``.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass

from deblurgan.cli import SUBCOMMANDS, build_parser, summary

# Folder of the generated pages, relative to docs/.
REFERENCE_DIR = "reference/cli"

# Characters that Markdown would read as markup inside a paragraph of help text.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


@dataclass(frozen=True)
class ArgumentEntry:
    """One argument of a subcommand as ``--help`` shows it.

    Attributes:
        invocation: The argument's left column in ``--help``, e.g. ``-o DIR, --output DIR``.
        help: Its help text with ``%(default)s`` and the like expanded, on one line.
        default: Its default as text, or None where it has none worth showing.
        required: Whether the command line must give it.
    """

    invocation: str
    help: str
    default: str | None
    required: bool


@dataclass(frozen=True)
class ArgumentSection:
    """A titled group of arguments (``positional arguments``, ``options``, or a named group).

    Attributes:
        title: The group's title as ``--help`` prints it.
        description: The group's description on one line ("" when it has none).
        entries: Its arguments in ``--help`` order.
    """

    title: str
    description: str
    entries: tuple[ArgumentEntry, ...]


def subcommand_parser(name: str) -> argparse.ArgumentParser:
    """The parser of ``deblurgan NAME``, built the way the command line builds it.

    Args:
        name: A key of :data:`deblurgan.cli.SUBCOMMANDS`.

    Raises:
        KeyError: If ``name`` is not a subcommand.
    """
    if name not in SUBCOMMANDS:
        raise KeyError(f"unknown subcommand {name!r}; choose from {', '.join(SUBCOMMANDS)}")
    parser = build_parser([name])
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices[name]
    raise RuntimeError("deblurgan's parser has no subcommands")  # pragma: no cover


def _one_line(text: str) -> str:
    return " ".join(text.split())


def argument_sections(parser: argparse.ArgumentParser) -> tuple[ArgumentSection, ...]:
    """Every visible argument of ``parser``, grouped and ordered as in its ``--help``.

    Args:
        parser: A subcommand's parser.
    """
    formatter = parser._get_formatter()
    sections = []
    for group in parser._action_groups:
        entries = []
        for action in group._group_actions:
            if action.help == argparse.SUPPRESS:
                continue
            default = action.default
            hidden = default in (None, False, argparse.SUPPRESS) or default == ""
            shown_default = None if hidden or not action.option_strings else str(default)
            entries.append(
                ArgumentEntry(
                    invocation=formatter._format_action_invocation(action),
                    help=_one_line(formatter._expand_help(action)) if action.help else "",
                    default=shown_default,
                    required=bool(action.required),
                )
            )
        if entries:
            description = _one_line(group.description or "")
            sections.append(ArgumentSection(group.title or "", description, tuple(entries)))
    return tuple(sections)


def escape_markdown(text: str) -> str:
    """``text`` with the characters Markdown reads as markup escaped by a backslash.

    Args:
        text: Plain text, such as an option's help.

    Examples:
        >>> escape_markdown("'**' in globs, <dir>")
        "'\\\\*\\\\*' in globs, \\\\<dir\\\\>"
    """
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def unescape_markdown(text: str) -> str:
    """The inverse of :func:`escape_markdown`.

    Args:
        text: Text escaped by :func:`escape_markdown`.

    Examples:
        >>> unescape_markdown(escape_markdown("a_b *c* [d]"))
        'a_b *c* [d]'
    """
    return re.sub(r"\\([\\`*_\[\]<>|#])", r"\1", text)


def help_markdown(text: str, options: Iterable[str]) -> str:
    r"""Help text as Markdown: escaped, with the parser's own option names in code spans.

    Args:
        text: One argument's help text.
        options: The option strings of its parser (``--weights``, ``-o``, ...).

    Examples:
        >>> help_markdown("see --weights and --x_y, not -5", ["--weights"])
        'see `--weights` and --x\\_y, not -5'
    """
    known = set(options)

    def code(match: re.Match[str]) -> str:
        return f"`{match.group(0)}`" if match.group(0) in known else match.group(0)

    return re.sub(r"(?<![\w-])--?[A-Za-z][\w-]*(?![\w-])", code, escape_markdown(text))


def help_from_markdown(markdown: str) -> str:
    """The inverse of :func:`help_markdown`: the help text as ``--help`` prints it.

    Args:
        markdown: A paragraph written by :func:`help_markdown`.

    Examples:
        >>> help_from_markdown(help_markdown("a_b --seed *x*", ["--seed"]))
        'a_b --seed *x*'
    """
    return unescape_markdown(re.sub(r"(?<!\\)`", "", markdown))


def _usage(parser: argparse.ArgumentParser) -> str:
    formatter = parser._get_formatter()
    formatter.add_usage(parser.usage, parser._actions, parser._mutually_exclusive_groups)
    return formatter.format_help().strip()


def subcommand_page(name: str) -> str:
    """The Markdown reference page of ``deblurgan NAME``.

    The summary and the parser's epilog come first, then the usage. Each argument is a
    level-3 heading holding its ``--help`` invocation in backticks, followed by its help text
    (one paragraph, the command's option names in code spans) and a ``Default:`` line for an
    option with a default, or ``Required.``.

    Args:
        name: A key of :data:`deblurgan.cli.SUBCOMMANDS`.
    """
    parser = subcommand_parser(name)
    options = [option for action in parser._actions for option in action.option_strings]
    lines = [
        f"# deblurgan {name}",
        "",
        "<!-- Generated from the argparse parser by docs/_hooks/cli_reference.py. -->",
        "",
        escape_markdown(summary(name)),
        "",
    ]
    if parser.epilog:
        lines += [help_markdown(_one_line(parser.epilog), options), ""]
    lines += [
        "```text",
        _usage(parser),
        "```",
        "",
    ]
    for section in argument_sections(parser):
        lines += [f"## {section.title[:1].upper()}{section.title[1:]}", ""]
        if section.description:
            lines += [help_markdown(section.description, options), ""]
        for entry in section.entries:
            lines += [f"### `{entry.invocation}`", ""]
            if entry.help:
                lines += [help_markdown(entry.help, options), ""]
            if entry.default is not None:
                lines += [f"Default: `{entry.default}`", ""]
            elif entry.required:
                lines += ["Required.", ""]
    return "\n".join(lines)


def index_page() -> str:
    """The Markdown page listing every subcommand with its one-line summary."""
    lines = [
        "# Command reference",
        "",
        "<!-- Generated from the argparse parsers by docs/_hooks/cli_reference.py. -->",
        "",
        "Every `deblurgan` subcommand, written from the command line's own parsers at build "
        "time: each page lists every option that `deblurgan SUBCOMMAND --help` shows, with its "
        "help and its default. `deblurgan --version` prints the version.",
        "",
        "| command | what it does |",
        "|---|---|",
    ]
    for name in SUBCOMMANDS:
        lines.append(f"| [`deblurgan {name}`]({name}.md) | {escape_markdown(summary(name))} |")
    return "\n".join(lines) + "\n"


def reference_pages() -> dict[str, str]:
    """Every generated page: path relative to ``docs/`` -> Markdown."""
    pages = {f"{REFERENCE_DIR}/index.md": index_page()}
    for name in SUBCOMMANDS:
        pages[f"{REFERENCE_DIR}/{name}.md"] = subcommand_page(name)
    return pages


if __name__ == "__main__":
    print(subcommand_page(sys.argv[1]) if len(sys.argv) > 1 else index_page())
