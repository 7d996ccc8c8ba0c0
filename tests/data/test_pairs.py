import os
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from deblurgan.data.pairs import (
    Pair,
    collect_inputs,
    find_aligned,
    find_paired,
    load_pair,
    read_pair_list,
    split_validation,
)


def _save(path, size=(40, 50)):
    rng = np.random.default_rng(zlib.crc32(str(path).encode()))
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(path)


def test_gopro_layout_pairs_and_reports_missing_partners(tmp_path):
    for scene in ("GOPR0001", "GOPR0002"):
        for name in ("a.png", "b.png"):
            _save(tmp_path / scene / "blur" / name)
            _save(tmp_path / scene / "sharp" / name)
    _save(tmp_path / "GOPR0002" / "blur" / "orphan.png")
    _save(tmp_path / "GOPR0002" / "sharp" / "lonely.png")
    _save(tmp_path / "GOPR0003" / "blur_gamma" / "g.png")
    _save(tmp_path / "GOPR0003" / "sharp" / "g.png")
    pairs, problems = find_paired(tmp_path)
    assert len(pairs) == 5
    assert all(p.sharp.parent.name == "sharp" and p.sharp.name == p.blurred.name for p in pairs)
    assert any("orphan.png: no sharp partner" in m for m in problems)
    assert any("lonely.png: no blurred partner" in m for m in problems)


def test_empty_root_is_a_problem_not_silence(tmp_path):
    assert find_paired(tmp_path) == ([], [f"{tmp_path}: no blur/ and sharp/ folders found"])
    with pytest.raises(FileNotFoundError):
        find_paired(tmp_path / "missing")


def test_aligned_images_split_in_halves(tmp_path):
    left, right = np.zeros((8, 6, 3), np.uint8), np.full((8, 6, 3), 255, np.uint8)
    Image.fromarray(np.concatenate([left, right], axis=1)).save(tmp_path / "ab.png")
    (pair,) = find_aligned(tmp_path)
    blurred, sharp = load_pair(pair)
    assert blurred.shape == sharp.shape == (8, 6, 3)
    assert blurred.max() == 0 and sharp.min() == 1


def test_pair_list_with_comments_and_problems(tmp_path):
    _save(tmp_path / "x_blur.png")
    _save(tmp_path / "x_sharp.png")
    (tmp_path / "pairs.txt").write_text(
        "# blurred sharp\nx_blur.png x_sharp.png\nx_blur.png gone.png\nonly-one\n"
    )
    pairs, problems = read_pair_list(tmp_path / "pairs.txt")
    assert pairs == [Pair(tmp_path / "x_blur.png", tmp_path / "x_sharp.png")]
    assert "pairs.txt:3: missing" in problems[0] and "pairs.txt:4: expected" in problems[1]


def test_mismatched_sizes_are_refused(tmp_path):
    _save(tmp_path / "a.png", (10, 10))
    _save(tmp_path / "b.png", (10, 12))
    with pytest.raises(ValueError, match="differs"):
        load_pair(Pair(tmp_path / "a.png", tmp_path / "b.png"))


def test_validation_split_is_deterministic_by_name():
    pairs = [Pair(__import__("pathlib").Path(f"/d/blur/{i:04d}.png")) for i in range(400)]
    train, val = split_validation(pairs, 0.25)
    assert len(train) + len(val) == 400 and 60 < len(val) < 140
    assert split_validation(list(reversed(pairs)), 0.25)[1] == list(reversed(val))


def test_inputs_mirror_folders_and_patterns_and_skip_hidden_entries(tmp_path, monkeypatch):
    for name in ("a/x.png", "a/sub/y.jpg", "a/.hidden/z.png", "a/.h.png"):
        _save(tmp_path / name)
    (tmp_path / "a" / "notes.txt").write_text("not an image")
    monkeypatch.chdir(tmp_path)
    expected = [(Path("a/sub/y.jpg"), Path("sub/y.jpg")), (Path("a/x.png"), Path("x.png"))]
    assert collect_inputs(["a"], recursive=True) == (expected, [])
    assert collect_inputs(["a/**/*.*g"], recursive=True) == (expected, [])
    assert collect_inputs(["a/*/*.jpg"]) == ([(Path("a/sub/y.jpg"), Path("sub/y.jpg"))], [])
    assert collect_inputs(["a/*.png"]) == ([(Path("a/x.png"), Path("x.png"))], [])
    assert collect_inputs(["*/x.png"]) == ([(Path("a/x.png"), Path("a/x.png"))], [])
    assert collect_inputs(["a/*.gif"]) == ([], [("a/*.gif", "pattern matches no file")])


def test_a_recursive_pattern_does_not_follow_folder_links(tmp_path):
    _save(tmp_path / "a" / "x.png")
    (tmp_path / "a" / "sub").mkdir()
    (tmp_path / "a" / "sub" / "up").symlink_to("..")  # a loop: a/sub/up/sub/up/...
    inputs, missing = collect_inputs([str(tmp_path / "a" / "**" / "*.png")], recursive=True)
    assert inputs == [(tmp_path / "a" / "x.png", Path("x.png"))] and missing == []
    inputs, _ = collect_inputs([str(tmp_path / "a")], recursive=True)
    assert [name for _, name in inputs] == [Path("x.png")]


def test_a_folder_that_cannot_be_listed_is_reported(tmp_path, monkeypatch):
    _save(tmp_path / "a" / "x.png")
    (tmp_path / "a" / "locked").mkdir()
    real_scandir = os.scandir

    def scandir(path):
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)  # root can list any folder: refuse by hand
    inputs, missing = collect_inputs([str(tmp_path / "a")], recursive=True)
    assert [name for _, name in inputs] == [Path("x.png")]
    assert missing == [
        (str(tmp_path / "a" / "locked"), "cannot list the folder (Permission denied)")
    ]
