import errno
import os
import stat
import subprocess
import sys
import time

import pytest

import deblurgan.io.atomic as atomic
from deblurgan.io.atomic import (
    UNKNOWN_WRITER_AGE_S,
    OutputFolderError,
    atomic_copy,
    atomic_path,
    atomic_write_bytes,
    check_output_folder,
    is_temp_file,
    remove_stale_temp_files,
)


def test_writes_appear_whole_with_umask_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write_bytes(tmp_path / "sub" / "a.bin", b"payload")
    finally:
        os.umask(old)
    target = tmp_path / "sub" / "a.bin"
    assert target.read_bytes() == b"payload"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert [p.name for p in target.parent.iterdir()] == ["a.bin"]


def test_failure_keeps_the_old_file_and_removes_the_temp(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("old")
    with pytest.raises(OSError, match="disk full"):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            assert tmp.parent == tmp_path and tmp.suffix == ".txt"
            raise OSError(28, "disk full")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


KILLED_WRITER = """
import os, signal, sys
from deblurgan.io.atomic import atomic_path
with atomic_path(sys.argv[1]) as tmp:
    tmp.write_bytes(b"half")
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_temp_file_of_a_killed_writer_is_removed_and_a_live_ones_kept(tmp_path):
    target = tmp_path / "out.png"
    subprocess.run([sys.executable, "-c", KILLED_WRITER, str(target)], check=False)
    (dead,) = [p for p in tmp_path.iterdir()]
    assert is_temp_file(dead) and not target.exists()
    (tmp_path / "photo.png").write_bytes(b"user file")  # never ours
    with atomic_path(tmp_path / "live.png") as live:
        live.write_bytes(b"being written")
        assert remove_stale_temp_files(tmp_path) == [dead]
        assert live.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["live.png", "photo.png"]


def test_temp_file_of_unknown_writer_is_removed_only_when_old(tmp_path):
    old = tmp_path / ".iter_000050.0123456789ab.tmp.pt"  # an older version's name
    fresh = tmp_path / ".frame.0123456789ab.tmp.png"
    for path in (old, fresh):
        path.write_bytes(b"x")
    past = time.time() - UNKNOWN_WRITER_AGE_S - 10
    os.utime(old, (past, past))
    assert remove_stale_temp_files(tmp_path) == [old]
    assert fresh.exists()
    assert remove_stale_temp_files(tmp_path / "missing") == []


def _race(path, writers=2):
    """``writers`` threads finish writing ``path`` at the same moment without replacing."""
    import threading

    barrier, outcomes = threading.Barrier(writers, timeout=10), []

    def write(text):
        try:
            with atomic_path(path, replace=False) as tmp:
                tmp.write_text(text)
                barrier.wait()
            outcomes.append(text)
        except FileExistsError:
            outcomes.append("exists")

    threads = [threading.Thread(target=write, args=(f"run {i}",)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    return outcomes


def test_without_replace_exactly_one_of_two_racing_writers_creates_the_file(tmp_path):
    for attempt in range(5):
        path = tmp_path / f"out{attempt}.png"
        outcomes = _race(path)
        assert len(outcomes) == 2 and outcomes.count("exists") == 1
        winner = next(o for o in outcomes if o != "exists")
        assert path.read_text() == winner
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    with pytest.raises(FileExistsError):
        with atomic_path(path, replace=False) as tmp:
            tmp.write_text("late")
    assert path.read_text() == winner  # kept


@pytest.mark.parametrize("renameat2", [True, False])
def test_without_hard_links_the_name_is_still_never_replaced(tmp_path, monkeypatch, renameat2):
    import errno

    from deblurgan.io import atomic

    def no_link(src, dst):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(atomic.os, "link", no_link)
    if not renameat2:
        monkeypatch.setattr(atomic, "_rename_no_replace", lambda tmp, path: False)
    path = tmp_path / "a.txt"
    with atomic_path(path, replace=False) as tmp:
        tmp.write_text("first")
    with pytest.raises(FileExistsError):
        with atomic_path(path, replace=False) as tmp:
            tmp.write_text("second")
    assert path.read_text() == "first" and sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]
    if renameat2:  # the system call itself refuses an existing name (no check before it)
        (tmp_path / "b.txt").write_text("b")
        with pytest.raises(FileExistsError):
            atomic._rename_no_replace(tmp_path / "b.txt", path)
        assert path.read_text() == "first"


def test_a_copy_has_the_sources_bytes_and_replaces_only_when_asked(tmp_path):
    source, target = tmp_path / "in.jpg", tmp_path / "out" / "in.jpg"
    source.write_bytes(b"\xff\xd8 the photo")
    atomic_copy(source, target)
    assert target.read_bytes() == source.read_bytes()
    target.write_bytes(b"another run's")
    with pytest.raises(FileExistsError):
        atomic_copy(source, target, replace=False)
    assert target.read_bytes() == b"another run's"
    assert sorted(p.name for p in target.parent.iterdir()) == ["in.jpg"]  # no temp file left


@pytest.mark.parametrize("advice", [None, "choose another run.dir"])
def test_a_refused_folder_names_the_way_out_that_the_caller_gives(tmp_path, monkeypatch, advice):
    def refuse(path, data):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(atomic, "atomic_write_bytes", refuse)  # root ignores chmod
    given = {} if advice is None else {"advice": advice}
    with pytest.raises(OutputFolderError) as caught:
        check_output_folder(tmp_path / "out", **given)
    assert str(caught.value) == (
        f"cannot write to the output folder {tmp_path / 'out'}: Permission denied; "
        + (advice or "choose another -o folder")
    )
