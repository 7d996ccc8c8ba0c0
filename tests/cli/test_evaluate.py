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
