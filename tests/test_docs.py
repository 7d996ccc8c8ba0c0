"""The documentation keeps up with the code: the command reference lists what ``--help``
shows, the site's navigation reaches every page and subcommand, the API reference covers the
public names, and the front pages stay short and link to files that exist."""

from __future__ import annotations

import contextlib
import doctest
import importlib
import importlib.util
import io
import re
import sys
import types
from pathlib import Path

import pytest
import yaml

from deblurgan.cli import SUBCOMMANDS, main

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
HOOKS = DOCS / "_hooks"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, HOOKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


cli_reference = _load("cli_reference")


def _help_text(name: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exit_:
        main([name, "--help"])
    assert exit_.value.code == 0
    return out.getvalue()


def _one_line(text: str) -> str:
    # argparse wraps after a hyphen inside a word ("high-" / "fps"): join those back.
    return " ".join(re.sub(r"(?<=\w-)\n\s*", "", text).split())


def _entries(lines: list[str]) -> dict[str, str]:
    entries: dict[str, str] = {}
    last = None
    for line in lines:
        if re.match(r"^  \S", line):
            invocation, _, help_ = line.strip().partition("  ")
            last = invocation.strip()
            entries[last] = help_.strip()
        elif last is not None and line.strip():
            entries[last] = _one_line(f"{entries[last]}\n{line}")
    return entries


def parse_help(text: str) -> dict[str, tuple[str, dict[str, str]]]:
    """``--help`` output as {section title: (description, {invocation: help})}, on one line."""
    sections: dict[str, tuple[str, dict[str, str]]] = {}
    blocks = [block.splitlines() for block in text.split("\n\n") if block.strip()]
    i = 0
    while i < len(blocks):
        lines = blocks[i]
        if re.match(r"^\S.*:$", lines[0]) and not lines[0].startswith("usage:"):
            following = blocks[i + 1] if i + 1 < len(blocks) else []
            if following and following[0].startswith("  "):  # title, description, entries
                sections[lines[0][:-1]] = (_one_line("\n".join(lines[1:])), _entries(following))
                i += 1
            else:
                sections[lines[0][:-1]] = ("", _entries(lines[1:]))
        i += 1
    return sections


def parse_page(markdown: str) -> dict[str, tuple[str, dict[str, str]]]:
    """A generated reference page as {section title: (description, {invocation: help})}."""
    sections: dict[str, tuple[str, dict[str, str]]] = {}
    description = ""
    entries: dict[str, str] | None = None
    title = None
    last = None
    for block in markdown.split("\n\n"):
        block = block.strip()
        if block.startswith("## "):
            if title is not None:
                sections[title] = (description, entries)
            title = block[3:4].lower() + block[4:]
            description, entries, last = "", {}, None
        elif block.startswith("### ") and entries is not None:
            last = block[4:].strip("`")
            entries[last] = ""
        elif entries is None or block.startswith(("Default: ", "Required.")):
            continue
        elif last is None:
            description = cli_reference.help_from_markdown(_one_line(block))
        elif not entries[last]:
            entries[last] = cli_reference.help_from_markdown(_one_line(block))
    if title is not None:
        sections[title] = (description, entries)
    return sections


@pytest.mark.parametrize("name", list(SUBCOMMANDS))
def test_reference_page_lists_every_option_with_the_help_that_help_shows(name):
    shown = parse_help(_help_text(name))
    page = cli_reference.subcommand_page(name)
    documented = parse_page(page)
    # Section titles differ only in the capital letter the page gives them.
    assert {title.lower() for title in documented} == {title.lower() for title in shown}
    for title, (description, entries) in shown.items():
        page_description, page_entries = documented[title[:1].lower() + title[1:]]
        assert page_description == description, title
        assert page_entries.keys() == entries.keys(), title
        for invocation, help_ in entries.items():
            assert page_entries[invocation] == help_, invocation
    # Every option string of the parser is on the page, with its default when it has one.
    parser = cli_reference.subcommand_parser(name)
    for action in parser._actions:
        for option in action.option_strings:
            assert re.search(rf"### `[^`]*(?<![\w-]){re.escape(option)}(?![\w-])", page), option
    assert cli_reference.summary(name) in _one_line(_help_text(name))
    if parser.epilog:
        epilog = cli_reference.help_markdown(_one_line(parser.epilog), [])
        assert cli_reference.help_from_markdown(epilog) in _one_line(_help_text(name))
        assert re.sub(r"`", "", epilog) in re.sub(r"`", "", page)


def test_reference_page_shows_defaults_and_required_options():
    page = cli_reference.subcommand_page("deblur")
    entry = page.split("### `--precision")[1].split("### ")[0]
    assert "Default: `auto`" in entry
    output = page.split("### `-o DIR, --output DIR`")[1].split("### ")[0]
    assert "Required." in output
    assert "```text\nusage: deblurgan deblur" in page


def test_markdown_escaping_round_trips_help_text():
    text = "'**' in globs; a_b <DIR> [x] `y` | z # w \\ v --seed -o --nope"
    markdown = cli_reference.help_markdown(text, ["--seed", "-o"])
    assert cli_reference.help_from_markdown(markdown) == text
    assert "*" not in re.sub(r"\\\*", "", markdown)
    assert "`--seed` `-o` --nope" in markdown


def test_examples_in_the_reference_generator_run():
    assert doctest.testmod(cli_reference).failed == 0


def _nav_pages(node) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [page for value in node.values() for page in _nav_pages(value)]
    return [page for item in node for page in _nav_pages(item)]


def _mkdocs_config() -> dict:
    return yaml.safe_load((ROOT / "mkdocs.yml").read_text())


def test_navigation_reaches_every_page_and_every_subcommand():
    config = _mkdocs_config()
    nav = _nav_pages(config["nav"])
    written = {
        path.relative_to(DOCS).as_posix()
        for path in DOCS.rglob("*.md")
        if "_hooks" not in path.parts
    }
    generated = set(cli_reference.reference_pages())
    assert set(nav) == written | generated
    assert {f"reference/cli/{name}.md" for name in SUBCOMMANDS} <= set(nav)
    assert "docs/_hooks/mkdocs_hooks.py" in config["hooks"]


def _documented_modules() -> set[str]:
    found = set()
    for page in (DOCS / "reference" / "api").glob("*.md"):
        found |= set(re.findall(r"^::: ([\w.]+)$", page.read_text(), flags=re.M))
    return found


@pytest.mark.parametrize(
    "package", ["deblurgan", "deblurgan.blur", "deblurgan.nets", "deblurgan.methods"]
)
def test_api_reference_covers_every_public_name(package):
    module = importlib.import_module(package)
    documented = _documented_modules()
    for name in module.__all__:
        if name == "__version__":
            continue
        obj = getattr(module, name)
        if isinstance(obj, (type, types.FunctionType)):
            assert obj.__module__ in documented or f"{obj.__module__}.{name}" in documented, name
        else:  # a constant or a table: documented with the module that assigns it
            homes = [
                found
                for found in documented
                if found.startswith(package) and name in vars(importlib.import_module(found))
            ]
            assert homes, name


def test_api_reference_names_modules_that_exist():
    for module in _documented_modules():
        assert importlib.util.find_spec(module) is not None, module


def _first_bash_block(markdown: str) -> str:
    return re.search(r"```bash\n(.*?)```", markdown, flags=re.S).group(1)


def test_getting_started_repeats_the_readme_quick_start_exactly():
    readme = (ROOT / "README.md").read_text()
    getting_started = (DOCS / "getting-started.md").read_text()
    assert _first_bash_block(getting_started) == _first_bash_block(readme)


@pytest.mark.parametrize(("name", "limit"), [("README.md", 12_500), ("MODEL_CARD.md", 8_500)])
def test_front_pages_stay_short_and_link_to_existing_files(name, limit):
    text = (ROOT / name).read_text()
    assert len(text.encode()) <= limit
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    assert links
    for link in links:
        if "://" in link:
            continue
        assert (ROOT / link.split("#")[0]).exists(), link


def test_model_card_has_the_hugging_face_sections():
    card = (ROOT / "MODEL_CARD.md").read_text()
    metadata = yaml.safe_load(card.split("---\n")[1])
    assert metadata["license"] == "bsd-3-clause"
    for section in (
        "Model details",
        "Intended use and limits",
        "Training data",
        "Training procedure",
        "Evaluation data",
        "Evaluation results",
        "Caveats",
    ):
        assert f"\n## {section}\n" in card, section


def test_site_pages_rewrite_repository_links():
    pytest.importorskip("mkdocs")
    hooks = _load("mkdocs_hooks")
    text = "[a](docs/how-to/deblur.md) [b](MODEL_CARD.md#caveats) [c](README.md) [d](https://x.org)"
    assert hooks.rewrite_repository_links(text, "") == (
        "[a](how-to/deblur.md) [b](model-card.md#caveats) [c](index.md) [d](https://x.org)"
    )
    assert hooks.rewrite_repository_links("![p](docs/serve.jpg)", "model") == "![p](../serve.jpg)"


def test_site_pages_show_sphinx_roles_as_code():
    pytest.importorskip("mkdocs")
    hooks = _load("mkdocs_hooks")
    html = "A :class:<code>Deblurrer</code> and :meth:<code>Deblurrer.plan</code>: x:y"
    assert hooks.strip_sphinx_roles(html) == (
        "A <code>Deblurrer</code> and <code>Deblurrer.plan</code>: x:y"
    )


def _method_table(markdown: str) -> str:
    return re.search(r"^\| your photo \| use \| why \|\n(?:\|.*\n)+", markdown, flags=re.M).group(0)


def test_choose_a_method_repeats_the_readme_table_exactly():
    readme = (ROOT / "README.md").read_text()
    how_to = (DOCS / "how-to" / "choose-a-method.md").read_text()
    assert _method_table(how_to) == _method_table(readme)


def test_the_web_page_guide_names_the_methods_as_the_page_does():
    from deblurgan.methods import METHODS
    from deblurgan.serve.words import METHOD_WORDS

    guide = " ".join((DOCS / "how-to" / "web-page.md").read_text().split())
    for name in METHODS:
        assert f'"{METHOD_WORDS[name][0]}", `{name}`' in guide, name
