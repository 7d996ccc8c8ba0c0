"""deblurgan compare."""

import os

import numpy as np
import pytest
from PIL import Image

from deblurgan.cli import main
from tests.evaluation.test_evaluation import _img


def test_compare_writes_a_labelled_picture(tmp_path, capsys):
    a, b = _img(tmp_path / "a.png", size=(64, 80)), _img(tmp_path / "b.png", size=(64, 80))
    assert (
        main(
            [
                "compare",
                str(tmp_path / "a.png"),
                str(tmp_path / "b.png"),
                "--labels",
                "blurred",
                "restored",
                "-o",
                str(tmp_path / "cmp.png"),
            ]
        )
        == 0
    )
    picture = np.asarray(Image.open(tmp_path / "cmp.png"))
    assert picture.shape[1] >= 2 * 80 and picture.shape[0] > 64
    assert (
        main(
            [
                "compare",
                str(tmp_path / "a.png"),
                "--labels",
                "x",
                "y",
                "-o",
                str(tmp_path / "c.png"),
            ]
        )
        == 2
    )
    del a, b


def test_compare_shows_each_image_and_an_honest_enlargement_of_the_region(tmp_path):
    a, b = _img(tmp_path / "a.png", size=(64, 80)), _img(tmp_path / "b.png", size=(64, 80))
    args = ["compare", str(tmp_path / "a.png"), str(tmp_path / "b.png")]
    assert main([*args, "--region", "8", "20", "16", "-o", str(tmp_path / "cmp.png")]) == 0
    picture = np.asarray(Image.open(tmp_path / "cmp.png").convert("RGB"))
    label, column, gap, zoom = 18, 192, 6, 192  # the layout of evaluation.pictures.side_by_side
    for i, image in enumerate((a, b)):
        x = i * (column + gap)
        panel = picture[label : label + 64, x : x + 80]
        assert np.array_equal(panel[30:], image[30:])  # below the outlined region: the image
        assert tuple(panel[8, 25]) == (255, 40, 40)  # the region's outline, top edge
        enlarged = picture[label + 64 + gap : label + 64 + gap + zoom, x : x + zoom]
        step = zoom // 16  # nearest-neighbour: every source pixel becomes a step x step block
        assert np.array_equal(enlarged[step // 2 :: step, step // 2 :: step], image[8:24, 20:36])


@pytest.mark.parametrize("spelling", ["same", "dotted", "symlink", "hardlink"])
def test_compare_refuses_to_overwrite_an_input(tmp_path, capsys, spelling):
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    _img(a, size=(32, 32)), _img(b, size=(32, 32))
    output = {
        "same": a,
        "dotted": tmp_path / "sub" / ".." / "a.png",
        "symlink": tmp_path / "link.png",
        "hardlink": tmp_path / "hard.png",
    }[spelling]
    (tmp_path / "sub").mkdir()
    if spelling == "symlink":
        output.symlink_to(a)
    elif spelling == "hardlink":
        os.link(a, output)
    before = a.read_bytes()
    assert main(["compare", str(a), str(b), "-o", str(output)]) == 2
    err = capsys.readouterr().err
    assert f"output {output} would overwrite the input {a}" in err
    assert a.read_bytes() == before


def test_compare_names_the_sizes_that_differ(tmp_path, capsys):
    _img(tmp_path / "a.png", size=(64, 80)), _img(tmp_path / "b.png", size=(40, 48))
    args = ["compare", str(tmp_path / "a.png"), str(tmp_path / "b.png")]
    assert main([*args, "-o", str(tmp_path / "cmp.png")]) == 2
    err = capsys.readouterr().err
    assert "all panels must have the same size; got a 80x64, b 48x40 (width x height)" in err
    assert not (tmp_path / "cmp.png").exists()
