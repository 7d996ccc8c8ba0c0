"""``deblurgan deblur --method l0`` and ``evaluate --method l0`` end to end on small images:
the same io path as the network (gray, RGBA, 16-bit kept), kernels saved, notes reported."""

import json

import numpy as np
from PIL import Image

from deblurgan.blur.apply import blur_image
from deblurgan.cli import main
from deblurgan.metrics import psnr

from ..deconv.conftest import line_kernel, shapes_scene


def blurred_scene(size: int = 96) -> np.ndarray:
    sharp = np.stack([shapes_scene(size, seed) for seed in (0, 1, 2)], axis=-1)
    return np.clip(blur_image(sharp, line_kernel(15, 11, 4)), 0, 1)


def test_deblur_l0_keeps_gray_rgba_and_16_bit_and_saves_kernels(tmp_path, capsys):
    rgb = blurred_scene()
    inputs = tmp_path / "in"
    inputs.mkdir()
    Image.fromarray((rgb * 255).round().astype(np.uint8)).save(inputs / "colour.jpg", quality=98)
    Image.fromarray((rgb[..., 1] * 255).round().astype(np.uint8)).save(inputs / "gray.png")
    alpha = np.full(rgb.shape[:2] + (1,), 200, np.uint8)
    rgba = np.concatenate([(rgb * 255).round().astype(np.uint8), alpha], axis=2)
    Image.fromarray(rgba, "RGBA").save(inputs / "alpha.png")
    Image.fromarray((rgb[..., 0] * 65535).round().astype(np.uint16)).save(inputs / "deep.png")
    before = {p.name: p.read_bytes() for p in inputs.iterdir()}
    out = tmp_path / "out"
    code = main(["deblur", str(inputs), "-o", str(out), "--method", "l0", "--save-kernel"])
    assert code == 0
    assert {p.name: p.read_bytes() for p in inputs.iterdir()} == before  # inputs untouched
    assert Image.open(out / "gray.png").mode == "L"
    assert Image.open(out / "alpha.png").mode == "RGBA"
    assert np.array_equal(np.asarray(Image.open(out / "alpha.png"))[..., 3], alpha[..., 0])
    deep = np.asarray(Image.open(out / "deep.png"))
    assert deep.dtype in (np.uint16, np.int32) and deep.max() > 255
    for name in ("colour", "gray", "alpha", "deep"):
        kernel = np.asarray(Image.open(out / f"{name}.kernel.png"), np.float64)
        assert kernel.shape == (13, 13) and kernel.max() == 255  # automatic: 96 // 7, odd
    printed = capsys.readouterr().out
    assert "4 written" in printed and "note" not in printed  # every file deblurred
    restored = np.asarray(Image.open(out / "colour.jpg"), np.float32) / 255
    decoded = np.asarray(Image.open(inputs / "colour.jpg"), np.float32) / 255
    sharp = np.stack([shapes_scene(96, seed) for seed in (0, 1, 2)], axis=-1)
    gain = psnr(restored, sharp) - psnr(decoded, sharp)
    assert gain > 2.5, gain  # closer to the sharp scene: 3.33 dB at commit 55acd08


def test_kernel_options_are_refused_for_the_network(tmp_path, capsys):
    for option in (["--kernel-size", "15"], ["--save-kernel"]):
        argv = ["deblur", "x.png", "-o", str(tmp_path / "o"), "--method", "network", *option]
        assert main(argv) == 2
        assert "estimates kernels" in capsys.readouterr().err


def test_a_kernel_file_never_replaces_another_output(tmp_path, capsys):
    (tmp_path / "in").mkdir()
    picture = (blurred_scene() * 255).round().astype(np.uint8)
    Image.fromarray(picture).save(tmp_path / "in" / "a.png")
    Image.fromarray(picture[::-1]).save(tmp_path / "in" / "a.kernel.png")  # its output's name
    out = tmp_path / "out"
    code = main(
        ["deblur", str(tmp_path / "in"), "-o", str(out), "--method", "l0", "--save-kernel", "-q"]
    )
    assert code == 0
    assert np.asarray(Image.open(out / "a.kernel.png")).shape == picture.shape  # the photo
    assert (out / "a.kernel.kernel.png").exists()


def test_deblur_l0_reports_a_sharp_photo_returned_unchanged(tmp_path, capsys):
    sharp = np.stack([shapes_scene(96, seed) for seed in (3, 4, 5)], axis=-1)
    (tmp_path / "in").mkdir()
    path = tmp_path / "in" / "sharp.png"
    Image.fromarray((sharp * 255).round().astype(np.uint8)).save(path)
    code = main(["deblur", str(path), "-o", str(tmp_path / "out"), "--method", "l0"])
    assert code == 0
    assert "no blur found" in capsys.readouterr().out
    assert np.array_equal(
        np.asarray(Image.open(tmp_path / "out" / "sharp.png")), np.asarray(Image.open(path))
    )


def test_deblur_refuses_a_kernel_too_large_for_the_image(tmp_path, capsys):
    path = tmp_path / "small.png"
    Image.fromarray((blurred_scene(40) * 255).astype(np.uint8)).save(path)
    code = main(
        [
            "deblur",
            str(path),
            "-o",
            str(tmp_path / "o"),
            "--method",
            "l0",
            "--kernel-size",
            "41",
            "-q",
        ]
    )
    assert code == 1 and "too large for a 40x40 image: at most 5 px" in capsys.readouterr().err


def test_even_kernel_size_is_refused_by_the_parser(tmp_path, capsys):
    import pytest

    with pytest.raises(SystemExit):
        main(["deblur", "x.png", "-o", str(tmp_path), "--method", "l0", "--kernel-size", "8"])
    assert "must be odd" in capsys.readouterr().err


def test_evaluate_method_l0_scores_a_crops_folder(tmp_path, capsys):
    sharp = np.stack([shapes_scene(128, seed) for seed in (0, 1, 2)], axis=-1)
    data = tmp_path / "data"
    data.mkdir()
    for key, rgb in (("a", blurred_scene(128)), ("b", sharp)):
        Image.fromarray((rgb * 255).round().astype(np.uint8)).save(data / f"{key}_in.png")
        Image.fromarray((sharp * 255).round().astype(np.uint8)).save(data / f"{key}_gt.png")
    out = tmp_path / "report"
    args = ["evaluate", "--data", str(data), "--method", "l0", "--align", "3", "-o", str(out)]
    code = main([*args, "-q"])  # aligned: a blind kernel estimate may be a pixel off-centre
    assert code == 0
    printed = capsys.readouterr().out
    assert "runtime" in printed and "l0" in printed
    report = json.loads((out / "results.json").read_text())
    assert report["settings"]["method"] == "l0"
    rows = {row["key"]: row for row in report["images"]}
    assert rows["a"]["ours_psnr_gain"] > 1.0  # the blurred one is deblurred
    assert rows["b"]["ours_psnr"] == rows["b"]["blurred_psnr"]  # the sharp one left alone
