"""How a batch names its outputs (the rest of the batch is tested through the CLI; what each
file is, in tests/io/test_media.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from deblurgan.inference.batch import Job, check_output_ext, check_suffix, plan_jobs


@pytest.mark.parametrize("suffix", ["/../x", "_a/b", "..", "_a\0b"])
def test_a_suffix_that_could_leave_the_output_folder_is_refused(tmp_path, suffix):
    with pytest.raises(ValueError, match="must not contain a path separator, '..' or NUL"):
        plan_jobs([(tmp_path / "a.png", Path("a.png"))], tmp_path / "out", suffix=suffix)
    assert check_suffix("_sharp.v2") == "_sharp.v2"


def test_output_formats_are_image_suffixes():
    assert check_output_ext("png") == ".png" and check_output_ext(".TIF") == ".TIF"
    assert check_output_ext(None) is None
    for ext in (".xyz", "mp4", "/../x.png"):
        with pytest.raises(ValueError, match="unknown image format"):
            check_output_ext(ext)


def test_the_output_folder_inside_a_walked_folder_is_never_an_input(tmp_path):
    root, out = tmp_path / "b2", tmp_path / "b2" / "out"
    inputs = [
        (root / "img.jpg", Path("img.jpg")),
        (root / "out" / "img.jpg", Path("out/img.jpg")),  # an earlier run's output
        (root / "out" / "deep" / "x.jpg", Path("out/deep/x.jpg")),
    ]
    jobs, report = plan_jobs(inputs, out)
    assert jobs == [Job(root / "img.jpg", out / "img.jpg")] and report.failed == []
    # Named directly (the folder of the input is the output folder): a real input.
    jobs, _ = plan_jobs([(out / "img.jpg", Path("img.jpg"))], out, suffix="_s")
    assert jobs == [Job(out / "img.jpg", out / "img_s.jpg")]


def test_an_output_name_that_climbs_out_is_refused(tmp_path):
    jobs, report = plan_jobs([(tmp_path / "a.png", Path("../a.png"))], tmp_path / "out")
    assert jobs == [] and report.failed == [
        (str(tmp_path / "a.png"), "output name ../a.png would leave the output folder")
    ]
