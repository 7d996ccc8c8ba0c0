"""Finding data on disk: blurred/sharp pairs in the supported layouts, sharp photos, inputs.

Layouts of paired data: the GoPro layout ``ROOT/**/blur/NAME`` + ``ROOT/**/sharp/NAME``
(also ``blur_gamma``), the authors' side-by-side images, and list files of
``BLURRED SHARP`` lines. Pure discovery and loading: no randomness, no training.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import glob
import os
import zlib
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from deblurgan.io.images import ImageReadError, check_image_header, read_image
from deblurgan.io.media import is_image, is_media

BLUR_FOLDERS = ("blur", "blur_gamma")


@dataclasses.dataclass(frozen=True)
class Pair:
    """A blurred image and its sharp partner; ``sharp=None`` means side by side in ``blurred``."""

    blurred: Path
    sharp: Path | None = None

    @property
    def name(self) -> str:
        """The blurred file's name (the pair's name in reports)."""
        return self.blurred.name


def find_paired(root: str | Path) -> tuple[list[Pair], list[str]]:
    """Pairs ``ROOT/**/blur/NAME`` (or ``blur_gamma``) with ``ROOT/**/sharp/NAME``.

    Returns:
        The pairs, sorted, and one message per file whose partner is missing.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such folder")
    pairs, problems = [], []
    for folder in sorted(p for p in root.rglob("*") if p.is_dir() and p.name in BLUR_FOLDERS):
        sharp_dir = folder.parent / "sharp"
        for blurred in sorted(_images(folder)):
            sharp = sharp_dir / blurred.name
            if sharp.is_file():
                pairs.append(Pair(blurred, sharp))
            else:
                problems.append(f"{blurred}: no sharp partner {sharp}")
        for sharp in sorted(_images(sharp_dir)) if sharp_dir.is_dir() else []:
            if folder.name == "blur" and not (folder / sharp.name).is_file():
                problems.append(f"{sharp}: no blurred partner in {folder}")
    if not pairs and not problems:
        problems.append(f"{root}: no blur/ and sharp/ folders found")
    return pairs, problems


def find_aligned(folder: str | Path) -> list[Pair]:
    """Images holding the blurred (left half) and sharp (right half) side by side."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder")
    return [Pair(p) for p in sorted(_images(folder))]


def read_pair_list(list_file: str | Path) -> tuple[list[Pair], list[str]]:
    """Lines ``BLURRED SHARP`` (relative to the list's folder; ``#`` starts a comment)."""
    list_file = Path(list_file)
    pairs, problems = [], []
    for number, line in enumerate(list_file.read_text().splitlines(), 1):
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        if len(fields) != 2:
            problems.append(f"{list_file}:{number}: expected 'BLURRED SHARP', got {line!r}")
            continue
        blurred, sharp = (list_file.parent / f for f in fields)
        missing = [str(p) for p in (blurred, sharp) if not p.is_file()]
        if missing:
            problems.append(f"{list_file}:{number}: missing {', '.join(missing)}")
        else:
            pairs.append(Pair(blurred, sharp))
    return pairs, problems


def find_sharp_images(folder: str | Path) -> list[Path]:
    """All images under ``folder`` (any depth), sorted: sources for on-the-fly synthetic blur."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder")
    return sorted(p for p in folder.rglob("*") if p.is_file() and is_image(p))


def split_validation(pairs: list[Pair], fraction: float) -> tuple[list[Pair], list[Pair]]:
    """Deterministic hold-out by a hash of each file name (stable as files are added)."""
    threshold = int(fraction * 10_000)
    held = [p for p in pairs if zlib.crc32(p.name.encode()) % 10_000 < threshold]
    return [p for p in pairs if p not in held], held


def load_pair(pair: Pair) -> tuple[np.ndarray, np.ndarray]:
    """Float32 RGB arrays in [0, 1] of the blurred and sharp images."""
    if pair.sharp is None:
        both = read_image(pair.blurred).rgb
        half = both.shape[1] // 2
        return both[:, :half], both[:, half : 2 * half]
    blurred, sharp = read_image(pair.blurred).rgb, read_image(pair.sharp).rgb
    if blurred.shape != sharp.shape:
        raise ValueError(
            f"{pair.blurred}: size {blurred.shape} differs from {pair.sharp} {sharp.shape}"
        )
    return blurred, sharp


def drop_unreadable(items: list[Pair] | list[Path]) -> tuple[list, list[str]]:
    """Keep the pairs (or image paths) whose files all have a readable image header.

    Returns:
        The readable items, and one line per dropped item naming the file and cause.
    """
    kept, problems = [], []
    for item in items:
        files = [item] if isinstance(item, Path) else [item.blurred, item.sharp]
        try:
            for path in files:
                if path is not None:
                    check_image_header(path)
        except ImageReadError as err:
            problems.append(f"skipped: {err}")
        else:
            kept.append(item)
    return kept, problems


def collect_inputs(
    specs: Iterable[str], recursive: bool = False
) -> tuple[list[tuple[Path, Path]], list[tuple[str, str]]]:
    """Expand files, folders and glob patterns into ``(path, name under -o)`` pairs.

    A folder contributes its entries with image or video suffixes (all levels
    with ``recursive``), named relative to the folder, so the output tree
    mirrors the input tree. A pattern's matches are named relative to its
    leading folders without wildcards (``shots/*.tif`` gives ``x.tif``), and
    ``**`` (with ``recursive``) walks sub-folders the way a folder is walked.
    Walks skip hidden entries and never follow a symbolic link to a folder, so
    a link loop is seen once, as one entry. Entries are sorted, duplicates dropped.

    Returns:
        The inputs, and ``(spec, cause)`` for specs that match nothing and for
        folders that cannot be listed.
    """
    found: dict[Path, Path] = {}
    missing: list[tuple[str, str]] = []
    for spec in specs:
        path = Path(spec)
        if path.is_dir():
            entries, unlisted = _walk(path, recursive)
            entries = [p for p in entries if is_media(p)]
            missing += unlisted
            if not entries and not unlisted:
                missing.append((spec, "folder contains no image or video files"))
            for entry in entries:
                found.setdefault(entry, entry.relative_to(path))
        elif path.exists() or path.is_symlink():
            found.setdefault(path, Path(path.name))
        elif glob.has_magic(spec):
            matches, unlisted = _glob(spec, recursive)
            missing += unlisted
            if not matches and not unlisted:
                missing.append((spec, "pattern matches no file"))
            for match, name in matches:
                found.setdefault(match, name)
        else:
            missing.append((spec, "no such file or folder"))
    return list(found.items()), missing


def _images(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.is_file() and is_image(p)]


def _walk(folder: Path, recursive: bool) -> tuple[list[Path], list[tuple[str, str]]]:
    """The non-hidden entries of ``folder`` (with ``recursive``, of its sub-folders instead of
    the sub-folders themselves), sorted, and ``(folder, cause)`` for folders that cannot be
    listed. Symbolic links are entries, never walked into."""
    entries: list[Path] = []
    unlisted: list[tuple[str, str]] = []
    pending = [folder]
    while pending:
        current = pending.pop()
        try:
            with os.scandir(current) as scan:
                children = [(child.name, child.is_dir(follow_symlinks=False)) for child in scan]
        except OSError as err:
            unlisted.append((str(current), f"cannot list the folder ({err.strerror})"))
            continue
        for name, is_dir in children:
            if name.startswith("."):
                continue
            if recursive and is_dir:
                pending.append(current / name)
            else:
                entries.append(current / name)
    return sorted(entries), unlisted


def _glob(spec: str, recursive: bool) -> tuple[list[tuple[Path, Path]], list[tuple[str, str]]]:
    """Matches of a pattern, each with its name relative to the pattern's leading folders.

    Without ``recursive``, ``**`` is ``*`` (Python's glob); with it, ``**`` matches any
    number of folders of a :func:`_walk`, which does not follow links to folders.
    """
    parts = Path(spec).parts
    first = next(i for i, part in enumerate(parts) if glob.has_magic(part))
    base, pattern = Path(*parts[:first]) if first else Path(), parts[first:]
    if not (recursive and "**" in pattern):
        matches = sorted(Path(match) for match in glob.glob(spec))
        return [(match, _relative(match, base)) for match in matches], []
    if not base.is_dir():
        return [], []
    entries, unlisted = _walk(base, recursive=True)
    matches = [p for p in entries if _matches(p.relative_to(base).parts, pattern)]
    return [(match, match.relative_to(base)) for match in matches], unlisted


def _relative(match: Path, base: Path) -> Path:
    """``match`` below ``base``; the file name alone where the pattern climbs out (``..``)."""
    name = match.relative_to(base)
    return name if ".." not in name.parts else Path(match.name)


def _matches(parts: tuple[str, ...], pattern: tuple[str, ...]) -> bool:
    """Whether path components match pattern components; ``**`` matches zero or more."""
    if not pattern:
        return not parts
    if pattern[0] == "**":
        return any(_matches(parts[i:], pattern[1:]) for i in range(len(parts) + 1))
    return (
        bool(parts)
        and fnmatch.fnmatchcase(parts[0], pattern[0])
        and _matches(parts[1:], pattern[1:])
    )
