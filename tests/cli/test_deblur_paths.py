"""Where `deblurgan deblur` reads and writes: outputs stay in -o, the output folder is never an
input, walks survive link loops, special files are never read, bad options stop before any work."""

import os
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from deblurgan.checkpoint import save_generator
from deblurgan.cli import main


@pytest.fixture
def weights(tmp_path, identity_generator):
    path = tmp_path / "identity.safetensors"
    save_generator(identity_generator, path)
    return str(path)


def _photo(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(len(path.name)).integers(0, 256, (10, 14, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return pixels


def _files(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if not p.is_dir())


def _deblur(weights, *args):
    return main(
        [
            "deblur",
            *map(str, args),
            "--weights",
            weights,
            "--method",
            "network",
            "--backend",
            "torch",
        ]
    )


@pytest.mark.parametrize("suffix", ["/../../escaped", "_a/b", "_..", "_a\0b"])
def test_a_suffix_that_could_leave_the_output_folder_is_refused_before_any_work(
    tmp_path, weights, capsys, suffix
):
    _photo(tmp_path / "in" / "img.jpg")
    before = _files(tmp_path)
    with pytest.raises(SystemExit) as stop:
        _deblur(weights, tmp_path / "in", "-o", tmp_path / "out", "--suffix", suffix)
    assert stop.value.code == 2
    assert "must not contain a path separator, '..' or NUL" in capsys.readouterr().err
    assert _files(tmp_path) == before and not (tmp_path / "out").exists()


def test_an_empty_output_folder_is_refused(tmp_path, weights, capsys, monkeypatch):
    _photo(tmp_path / "in" / "img.jpg")
    monkeypatch.chdir(tmp_path / "in")
    with pytest.raises(SystemExit) as stop:
        _deblur(weights, "img.jpg", "-o", "")
    assert stop.value.code == 2
    assert "-o/--output: must not be empty" in capsys.readouterr().err
    assert _files(tmp_path / "in") == ["img.jpg"]


@pytest.mark.parametrize("ext", [".xyz", "mp4"])
def test_an_unknown_output_format_is_refused_before_the_model_is_loaded(tmp_path, capsys, ext):
    _photo(tmp_path / "img.jpg")
    with pytest.raises(SystemExit) as stop:  # the weights do not exist: never got that far
        main(["deblur", str(tmp_path / "img.jpg"), "-o", str(tmp_path / "out"), "--ext", ext,
              "--weights", str(tmp_path / "no.pt"), "--method", "network"])  # fmt: skip
    err = capsys.readouterr().err
    assert stop.value.code == 2 and f"unknown image format {ext!r}" in err and "no.pt" not in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("pattern", [False, True])
def test_an_output_folder_inside_the_input_tree_is_never_an_input(
    tmp_path, weights, capsys, pattern
):
    source = tmp_path / "b2"
    _photo(source / "img.jpg")
    original = (source / "img.jpg").read_bytes()
    spec = source / "**" / "*.jpg" if pattern else source
    for run in range(3):
        assert _deblur(weights, spec, "-r", "-o", source / "out") == 0
        expected = "0 written, 1 skipped" if run else "1 written, 0 skipped"
        assert f"{expected}, 0 failed" in capsys.readouterr().out
    assert _files(source) == ["img.jpg", "out/img.jpg"]
    assert (source / "img.jpg").read_bytes() == original


def test_a_recursive_glob_walks_a_folder_link_loop_once(tmp_path, weights, capsys):
    _photo(tmp_path / "a" / "x.png")
    (tmp_path / "a" / "sub").mkdir()
    (tmp_path / "a" / "sub" / "up").symlink_to("..")
    _photo(tmp_path / "a" / "sub" / "y.png")
    assert _deblur(weights, tmp_path / "a" / "**" / "*.png", "-r", "-o", tmp_path / "o") == 0
    assert "2 written, 0 skipped, 0 failed" in capsys.readouterr().out
    assert _files(tmp_path / "o") == ["sub/y.png", "x.png"]  # the tree is mirrored, as for folders


def _unblock_after(fifo: Path, seconds: float) -> threading.Timer:
    """Give a reader stuck on ``fifo`` an end of file, so a regression fails instead of hanging."""

    def unblock() -> None:
        try:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:  # nobody is reading
            pass

    timer = threading.Timer(seconds, unblock)
    timer.start()
    return timer


def test_pipes_and_devices_are_named_and_never_read(tmp_path, weights, capsys):
    folder = tmp_path / "d"
    good = _photo(folder / "good.png")
    os.mkfifo(folder / "pipe.png")
    (folder / "zero.jpg").symlink_to("/dev/zero")
    timer = _unblock_after(folder / "pipe.png", 60)
    try:
        status = _deblur(weights, folder, "-o", tmp_path / "out")
    finally:
        timer.cancel()
    err = capsys.readouterr().err
    assert status == 1 and "1 written, 0 skipped, 2 failed" in err
    assert f"{folder / 'pipe.png'}: a named pipe (FIFO), not a regular file" in err
    assert f"{folder / 'zero.jpg'}: a character device (link to /dev/zero)" in err
    assert "empty file" not in err
    assert np.array_equal(np.asarray(Image.open(tmp_path / "out" / "good.png")), good)
