"""MkDocs hooks (``hooks:`` in mkdocs.yml): the generated command reference, and the
repository's front pages shown inside the site.

- ``on_files`` adds the command reference pages written by ``cli_reference.py`` from the
  argparse parsers, so every build shows the options of the code it was built from.
- ``on_page_markdown`` replaces a page that holds only ``<!-- include: FILE -->`` with the
  repository file ``FILE`` (README.md, MODEL_CARD.md), without its YAML metadata, its links
  rewritten to work from the
  site: ``docs/x.md`` becomes ``x.md``, README.md the home page and MODEL_CARD.md the model
  card page. So the front page on GitHub and the site's home are one text.
- ``on_page_content`` shows the Sphinx roles some docstrings use (``:class:`X```) as code.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

_HERE = Path(__file__).resolve().parent
_ROOT = _HERE.parents[1]
_INCLUDE = re.compile(r"^\s*<!-- include: (\S+) -->\s*$")
# Repository files shown as site pages: path in the repository -> page in docs/.
_SITE_PAGES = {"README.md": "index.md", "MODEL_CARD.md": "model-card.md"}
# A Sphinx role before an inline code span in rendered HTML (:class:, :meth:, :math:, ...).
_SPHINX_ROLE = re.compile(
    r":(?:py:)?(?:class|meth|func|data|attr|mod|exc|obj|const|math|ref):(<code)"
)


def _cli_reference() -> Any:
    spec = importlib.util.spec_from_file_location("cli_reference", _HERE / "cli_reference.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def on_files(files: Files, config: Any) -> Files:
    """Add the generated command reference pages to the site's files."""
    for src_uri, markdown in _cli_reference().reference_pages().items():
        files.append(File.generated(config, src_uri, content=markdown))
    return files


def rewrite_repository_links(markdown: str, page_dir: str) -> str:
    """Links of a repository-root Markdown file, made to work from a page in ``page_dir``.

    Args:
        markdown: Text of README.md or MODEL_CARD.md.
        page_dir: Folder of the page inside docs/ that shows it ("" for the top level).
    """
    up = "../" * len([part for part in page_dir.split("/") if part])

    def target(match: re.Match[str]) -> str:
        link = match.group(2)
        if link.startswith("docs/"):
            link = up + link[len("docs/") :]
        elif link.split("#")[0] in _SITE_PAGES:
            path, _, anchor = link.partition("#")
            link = up + _SITE_PAGES[path] + (f"#{anchor}" if anchor else "")
        return f"{match.group(1)}({link})"

    return re.sub(r"(\])\(([^)\s]+)\)", target, markdown)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    """Replace an ``<!-- include: FILE -->`` page with the repository file, links rewritten."""
    match = _INCLUDE.match(markdown)
    if not match:
        return markdown
    text = (_ROOT / match.group(1)).read_text(encoding="utf-8")
    text = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.S)  # a model card's metadata
    parent = Path(page.file.src_uri).parent.as_posix()
    page_dir = "" if parent == "." else parent
    return rewrite_repository_links(text, page_dir)


def strip_sphinx_roles(html: str) -> str:
    """HTML with the Sphinx roles of docstrings (``:class:`Deblurrer```) shown as plain code.

    Args:
        html: A rendered page.
    """
    return re.sub(_SPHINX_ROLE, r"\1", html)


def on_page_content(html: str, page: Any, config: Any, files: Files) -> str:
    """Show docstrings' Sphinx roles as code: ``:class:`X``` renders as ``X``."""
    return strip_sphinx_roles(html)
