"""What a path is when it is not a regular file or a folder, so that inputs of that kind are
named and never read: reading a named pipe blocks until a writer comes, and a character device
such as ``/dev/zero`` or ``/dev/urandom`` never ends."""

from __future__ import annotations

import os
import stat

_SPECIAL_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def special_file_kind(path: str | os.PathLike) -> str | None:
    """``"a named pipe (FIFO)"``, ``"a character device"``, ``"a block device"`` or
    ``"a socket"`` for such a path (symbolic links followed); None for anything else,
    including paths that do not exist. Only the file's metadata is read.

    Examples:
        >>> special_file_kind("/dev/null")
        'a character device'
        >>> special_file_kind("/") is None
        True
    """
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return None
    return next((kind for test, kind in _SPECIAL_KINDS if test(mode)), None)


def describe_special_file(path: str | os.PathLike) -> str | None:
    """``"PATH: a character device (link to /dev/zero), not a regular file"`` for a special
    file (see :func:`special_file_kind`), None otherwise."""
    kind = special_file_kind(path)
    if kind is None:
        return None
    link = f" (link to {os.path.realpath(path)})" if os.path.islink(path) else ""
    return f"{path}: {kind}{link}, not a regular file; it is not read"
