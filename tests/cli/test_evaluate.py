"""deblurgan evaluate: report files and the self-contained page."""

import base64
import json
import re

import numpy as np
import pytest

from deblurgan.checkpoint import save_generator
from deblurgan.cli import main
from tests.evaluation.test_evaluation import _img


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
                "--backend",
                "torch",
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
    ran_with = {k: results["settings"][k] for k in ("backend", "precision", "device")}
    assert ran_with == {"backend": "torch", "precision": "fp32", "device": "cpu"}
    page = (out / "report.html").read_text()
    sources = re.findall(r'src="([^"]+)"', page)
    assert len(sources) == 3 and all(s.startswith("data:image/png;base64,") for s in sources)
    gain_plot = base64.b64decode(sources[0].split(",", 1)[1])
    assert gain_plot == (out / "psnr_gain.png").read_bytes()  # the page needs no other file


def test_align_subpixel_recovers_a_known_shift_that_whole_pixels_cannot(tmp_path, capsys):
    from tests.evaluation.test_subpixel import _scene

    def u8(image):
        return np.rint(image * 255).astype(np.uint8)

    data = tmp_path / "data"
    _img(data / "k_gt.png", u8(_scene(64, 64)))
    _img(data / "k_in.png", u8(_scene(64, 64, 1.0, 0.0)))
    _img(data / "k_pred.png", u8(_scene(64, 64, 0.75, -1.5)))
    scores = {}
    for option in (["--align", "5", "--border", "15"], ["--align-subpixel"]):
        out = tmp_path / option[0]
        argv = ["evaluate", "--data", str(data), "--pred", str(data), "--no-model", "-q"]
        assert main([*argv, *option, "-o", str(out)]) == 0
        results = json.loads((out / "results.json").read_text())
        scores[option[0]] = results["images"][0]["other_psnr"]
    assert "subpixel" in results["settings"]["align"]
    assert scores["--align-subpixel"] > 40 > scores["--align"] + 5
    argv = ["evaluate", "--data", str(data), "--no-model", "--align", "3", "--align-subpixel"]
    assert main([*argv, "-o", str(tmp_path / "both")]) == 2
    assert "exclude each other" in capsys.readouterr().err
