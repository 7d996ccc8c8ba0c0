"""deblurgan compare."""

import numpy as np
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
