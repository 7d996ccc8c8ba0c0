import base64
import json
import re

import numpy as np
import pytest
from PIL import Image

from deblurgan.checkpoint import save_generator
from deblurgan.cli import main
from deblurgan.evaluation.datasets import find_eval_items
from deblurgan.evaluation.evaluate import evaluate
from deblurgan.evaluation.scoring import best_shift, luma, score
from deblurgan.inference.deblurrer import Deblurrer

RNG = np.random.default_rng(0)


def _img(path, pixels=None, size=(40, 48)):
    pixels = RNG.integers(0, 256, (*size, 3), dtype=np.uint8) if pixels is None else pixels
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
    return pixels


def test_layouts_are_recognised(tmp_path):
    for key in ("a", "b"):
        _img(tmp_path / "crops" / f"{key}_in.png")
        _img(tmp_path / "crops" / f"{key}_gt.png")
    _img(tmp_path / "crops" / "a_pred.png")
    items, layout = find_eval_items(tmp_path / "crops")
    assert layout == "crops" and [i.key for i in items] == ["a", "b"]
    assert items[0].other.name == "a_pred.png" and items[1].other is None

    _img(tmp_path / "levin" / "im1_kernel2_img.png", size=(20, 20))
    _img(tmp_path / "levin" / "gt" / "im1.png", size=(20, 20))
    items, layout = find_eval_items(tmp_path / "levin")
    assert (
        layout == "levin"
        and items[0].kernel.name == "kernel2.png"
        and items[0].key == "im1_kernel2"
    )

    _img(tmp_path / "gopro" / "S1" / "blur" / "x.png")
    _img(tmp_path / "gopro" / "S1" / "sharp" / "x.png")
    _img(tmp_path / "other" / "x.png")
    items, layout = find_eval_items(tmp_path / "gopro", pred=tmp_path / "other")
    assert layout == "gopro" and items[0].other == tmp_path / "other" / "x.png"

    (tmp_path / "list.txt").write_text("gopro/S1/blur/x.png gopro/S1/sharp/x.png\n")
    assert find_eval_items(tmp_path / "list.txt")[1] == "list"
    with pytest.raises(FileNotFoundError):
        find_eval_items(tmp_path / "nothing")


def test_identity_model_scores_exactly_the_inputs_psnr(tmp_path, identity_generator):
    for key in ("a", "b"):
        sharp = _img(tmp_path / f"{key}_gt.png")
        noisy = np.clip(sharp.astype(int) + RNG.integers(-20, 21, sharp.shape), 0, 255).astype(
            np.uint8
        )
        _img(tmp_path / f"{key}_in.png", noisy)
    items, _ = find_eval_items(tmp_path)
    results = evaluate(items, Deblurrer(identity_generator), progress=False)
    for result in results:
        assert result.scores["ours"] == result.scores["blurred"]
        assert result.seconds is not None and result.seconds >= 0


def test_luma_and_alignment_facts():
    assert luma(np.ones((1, 1, 3))).item() == 235 and luma(np.zeros((1, 1, 3))).item() == 16
    sharp = RNG.random((50, 60, 3)).astype(np.float32)
    shifted = np.roll(sharp, (2, -3), axis=(0, 1))
    assert best_shift(shifted, sharp, 5, 5) == (2, -3)
    aligned = score(shifted, sharp, align=5)
    assert aligned["psnr"] == float("inf") and (aligned["shift_y"], aligned["shift_x"]) == (2, -3)
    assert score(shifted, sharp)["psnr"] < 15


def test_cli_report_files_and_html_embeds_its_images(tmp_path, identity_generator):
    for key in ("p", "q"):
        sharp = _img(tmp_path / "data" / f"{key}_gt.png")
        _img(tmp_path / "data" / f"{key}_in.png", (sharp // 2 + 60).astype(np.uint8))
        _img(tmp_path / "data" / f"{key}_pred.png", sharp)
    save_generator(identity_generator, tmp_path / "g.safetensors")
    out = tmp_path / "report"
    assert (
        main(
            [
                "evaluate",
                "--data",
                str(tmp_path / "data"),
                "--weights",
                str(tmp_path / "g.safetensors"),
                "--pred",
                str(tmp_path / "data"),
                "--pred-name",
                "peer",
                "--y-channel",
                "--border",
                "2",
                "-o",
                str(out),
                "-q",
            ]
        )
        == 0
    )
    for name in ("results.json", "results.csv", "psnr_gain.png", "report.html"):
        assert (out / name).is_file()
    results = json.loads((out / "results.json").read_text())
    assert (
        results["summary"]["peer"]["psnr"] == float("inf")
        or results["summary"]["peer"]["psnr"] > 60
    )
    assert results["summary"]["ours"]["psnr_gain"] == pytest.approx(0.0)
    assert "Wang et al. 2004" in results["metrics"]
    page = (out / "report.html").read_text()
    sources = re.findall(r'src="([^"]+)"', page)
    assert len(sources) == 3 and all(s.startswith("data:image/png;base64,") for s in sources)
    gain_plot = base64.b64decode(sources[0].split(",", 1)[1])
    assert gain_plot == (out / "psnr_gain.png").read_bytes()  # the page needs no other file


def test_levin_nonblind_references_beat_the_blurred_input(shared, tmp_path):
    items, layout = find_eval_items(shared / "data" / "levin2009")
    subset = [i for i in items if i.key in ("im1_kernel2", "im2_kernel5")]
    results = evaluate(subset, nonblind=True, align=8, progress=False)
    for result in results:  # knowing the kernel must help (measured: +1.3 and +6.5 dB)
        best = max(result.scores[f"nonblind_{m}"]["psnr"] for m in ("wiener", "richardson_lucy"))
        assert best > result.scores["blurred"]["psnr"] + 1


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
