"""Atomic file writes: a temp file beside the target, then one rename.

A reader never sees a half-written output or checkpoint: either the old file
(or none) or the complete new one. On any failure (a full disk, an encoder
error, Ctrl-C) the temp file is removed and the target is left as it was. A
process killed outright (SIGKILL, power loss) cannot clean up: its temp file
names the host and process that wrote it, so :func:`remove_stale_temp_files`
can remove it on the next run without touching a live writer's.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import shutil
import socket
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

_HOST = f"{zlib.crc32(socket.gethostname().encode()):08x}"
# .STEM.HOST-PID-RANDOM.tmp.SUFFIX (this version) or .STEM.RANDOM.tmp.SUFFIX (older versions)
_TEMP_NAME = re.compile(
    r"^\..+\.(?:(?P<host>[0-9a-f]{8})-(?P<pid>\d+)-[0-9a-f]{8}|[0-9a-f]{12})\.tmp(?:\.[^.]*)?$"
)
UNKNOWN_WRITER_AGE_S = 3600.0


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, replace: bool = True) -> Iterator[Path]:
    """Yield a temporary path to write; move it onto ``path`` if the block succeeds.

    The temp file lives in the target's folder (so the rename is atomic on
    POSIX) and keeps the target's suffix (so encoders that pick a format by
    extension still work). The parent folder is created if needed.

    Args:
        path: The file to create or replace.
        replace: False: never replace an existing ``path``, even one created by another
            process while the block ran (:func:`publish_no_replace`); the temp file is
            removed and ``FileExistsError`` raised instead.

    Examples:
        >>> import tempfile, pathlib
        >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
        >>> with atomic_path(target) as tmp:
        ...     _ = tmp.write_text("done")
        >>> target.read_text()
        'done'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # os.open with 0o666 lets the umask decide permissions (mkstemp would force 0o600).
    tmp = path.with_name(
        f".{path.stem}.{_HOST}-{os.getpid()}-{secrets.token_hex(4)}.tmp{path.suffix}"
    )
    os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            publish_no_replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def publish_no_replace(tmp: Path, path: Path) -> None:
    """Give the finished file ``tmp`` the name ``path`` unless that name exists, atomically:
    of two processes publishing the same name at once, exactly one succeeds.

    A hard link (``os.link``) creates the name exclusively; on file systems without hard
    links (FAT, some network and FUSE mounts), Linux's ``renameat2(RENAME_NOREPLACE)``
    does; on Windows ``os.rename`` never replaces. Where none of these exist, the name is
    checked and then renamed: a race remains only there.

    Raises:
        FileExistsError: ``path`` exists; ``tmp`` is left for the caller to remove.
    """
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError as err:
        if err.errno not in _NO_HARD_LINKS:
            raise
        if _rename_no_replace(tmp, path):
            return
        if os.name != "nt" and os.path.lexists(path):
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(path)) from None
        os.rename(tmp, path)  # exclusive on Windows; checked just above elsewhere
        return
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()


_NO_HARD_LINKS = {
    errno.EPERM,
    errno.EACCES,
    errno.EMLINK,
    errno.EXDEV,
    errno.ENOSYS,
    getattr(errno, "ENOTSUP", errno.EOPNOTSUPP),
    errno.EOPNOTSUPP,
}


def _rename_no_replace(tmp: Path, path: Path) -> bool:
    """``renameat2(tmp, path, RENAME_NOREPLACE)``; False where the system lacks it.

    Raises:
        FileExistsError: ``path`` exists.
    """
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):  # glibc before 2.28, or no libc to load
        return False
    at_fdcwd, rename_noreplace = -100, 1
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
    renameat2.argtypes += [ctypes.c_uint]
    if renameat2(at_fdcwd, os.fsencode(tmp), at_fdcwd, os.fsencode(path), rename_noreplace) == 0:
        return True
    code = ctypes.get_errno()
    if code == errno.EEXIST:
        raise FileExistsError(code, os.strerror(code), str(path))
    if code in (errno.EINVAL, errno.ENOSYS):  # the file system or kernel cannot do it
        return False
    raise OSError(code, os.strerror(code), str(path))


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_copy(source: str | os.PathLike, path: str | os.PathLike, replace: bool = True) -> None:
    """Copy ``source``'s bytes to ``path`` atomically (``replace`` as :func:`atomic_path`).

    Raises:
        FileExistsError: ``path`` exists and ``replace`` is False.
    """
    with atomic_path(path, replace) as tmp:
        shutil.copyfile(source, tmp)


class OutputFolderError(ValueError):
    """The output folder cannot receive files; the message says why."""


def check_output_folder(out_dir: Path, advice: str = "choose another -o folder") -> None:
    """Create ``out_dir`` if needed and prove a file can be written there, before any work.

    Args:
        out_dir: The folder.
        advice: What the user can do where writing is refused (the option that names it).

    Raises:
        OutputFolderError: It is a file, cannot be created, or refuses writes
            (read-only file system, permissions, full disk), with the cause.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputFolderError(f"output {out_dir} is an existing file, not a folder")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / f".deblurgan-write-test-{os.getpid()}"
        atomic_write_bytes(probe, b"")
        probe.unlink(missing_ok=True)
    except OSError as err:
        cause = err.strerror or str(err)
        if err.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            cause += f"; {advice}"
        raise OutputFolderError(f"cannot write to the output folder {out_dir}: {cause}") from err


def first_missing_folder(path: str | os.PathLike) -> Path | None:
    """The topmost of ``path`` and its parents that does not exist yet: what creating ``path``
    makes (None: ``path`` exists). A run that fails passes it to :func:`remove_empty_folders`.

    Examples:
        >>> import tempfile, pathlib
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> first_missing_folder(root / "a" / "b") == root / "a", first_missing_folder(root)
        (True, None)
    """
    path = Path(path).absolute()
    if path.exists() or path.is_symlink():
        return None
    while not path.parent.exists():
        path = path.parent
    return path


def remove_empty_folders(top: str | os.PathLike) -> None:
    """Remove ``top`` and the folders below it that hold no file, bottom up (never a file):
    the output folder that a failed run created, if it is still empty."""
    for folder, _, _ in os.walk(top, topdown=False):
        with contextlib.suppress(OSError):  # not empty, or gone
            os.rmdir(folder)


def status_leaving_no_empty_folder(folder: str | os.PathLike, work: Callable[[], int]) -> int:
    """Run ``work``, a command's body that may create ``folder`` and returns its exit
    status; if it fails (a non-zero status or an exception), remove what it created of
    ``folder`` and its parents where that is still empty.

    Examples:
        >>> import tempfile, pathlib
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "new" / "out"
        >>> status_leaving_no_empty_folder(out, lambda: out.mkdir(parents=True) or 2)
        2
        >>> out.parent.exists()
        False
    """
    created, status = first_missing_folder(folder), 2
    try:
        status = work()
    finally:
        if status and created is not None:
            remove_empty_folders(created)
    return status


def is_temp_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` is named like a temp file of :func:`atomic_path`."""
    return _TEMP_NAME.match(Path(path).name) is not None


def remove_stale_temp_files(folder: str | os.PathLike) -> list[Path]:
    """Delete the temp files of writers that died in ``folder`` (not recursive).

    A temp file is stale when the process named in it no longer runs on this
    host, or, when it was written on another host or by an older version,
    when it has not changed for :data:`UNKNOWN_WRITER_AGE_S` seconds.

    Returns:
        The files removed.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    removed = []
    for path in folder.iterdir():
        match = _TEMP_NAME.match(path.name)
        if match is None or not path.is_file():
            continue
        stale = False
        if match["host"] == _HOST:
            stale = not _process_alive(int(match["pid"]))
        else:
            with contextlib.suppress(OSError):
                stale = time.time() - path.stat().st_mtime > UNKNOWN_WRITER_AGE_S
        if stale:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed.append(path)
    return removed


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True
