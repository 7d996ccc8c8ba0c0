"""deblurgan evaluate: report files and the self-contained page."""

import base64
import json
import re
import warnings

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


def _evaluate(tmp_path, *extra):
    argv = ["evaluate", "--data", str(tmp_path / "data"), "--no-model", "-q"]
    return main([*argv, "-o", str(tmp_path / "report"), *extra])


@pytest.mark.parametrize("layout", ["crops", "levin", "gopro"])
def test_a_missing_sharp_partner_is_named_and_fails_unless_allowed(tmp_path, capsys, layout):
    data = tmp_path / "data"
    if layout == "crops":
        _img(data / "a_in.png"), _img(data / "a_gt.png"), _img(data / "b_in.png")
        lost = "b_in.png"
    elif layout == "levin":
        for name in ("im1_kernel1_img", "im2_kernel1_img"):
            _img(data / f"{name}.png", size=(40, 40))
        _img(data / "gt" / "im1.png", size=(40, 40))
        lost = "im2_kernel1_img.png"
    else:
        for name in ("x.png", "y.png"):
            _img(data / "S" / "blur" / name)
        _img(data / "S" / "sharp" / "x.png")
        lost = "y.png"
    assert _evaluate(tmp_path) == 2
    err = capsys.readouterr().err
    assert "missing partner" in err and lost in err and "--allow-missing" in err
    assert not (tmp_path / "report" / "results.json").exists()
    assert _evaluate(tmp_path, "--allow-missing") == 0
    assert lost in capsys.readouterr().err  # still named
    results = json.loads((tmp_path / "report" / "results.json").read_text())
    assert len(results["images"]) == 1 and results["settings"]["missing_partners"] == 1


def test_a_missing_prediction_is_named_and_the_summary_counts_what_it_scored(tmp_path, capsys):
    data = tmp_path / "data"
    for key in ("a", "b"):
        _img(data / f"{key}_in.png"), _img(data / f"{key}_gt.png")
    _img(tmp_path / "pred" / "a.png")
    assert _evaluate(tmp_path, "--pred", str(tmp_path / "pred")) == 2
    assert "b_in.png: no prediction" in capsys.readouterr().err
    assert _evaluate(tmp_path, "--pred", str(tmp_path / "pred"), "--allow-missing") == 0
    summary = json.loads((tmp_path / "report" / "results.json").read_text())["summary"]
    assert summary["other"]["images"] == 1 and summary["blurred"]["images"] == 2


def test_an_unwritable_report_folder_is_refused_before_any_scoring(tmp_path, capsys, monkeypatch):
    data = tmp_path / "data"
    _img(data / "a_in.png"), _img(data / "a_gt.png")
    (tmp_path / "report").write_text("a file, not a folder")
    scored = []
    monkeypatch.setattr("deblurgan.cli.evaluate.evaluate", lambda *a, **k: scored.append(1))
    assert _evaluate(tmp_path) == 2
    assert "is an existing file" in capsys.readouterr().err and not scored


@pytest.mark.parametrize(
    "option, message",
    [(["--align", "-3"], "must be 0 or more"), (["--border", "-5"], "must be 0 or more")],
)
def test_negative_align_and_border_are_refused_by_name(tmp_path, capsys, option, message):
    with pytest.raises(SystemExit) as exit_:
        _evaluate(tmp_path, *option)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert option[0] in err and message in err


def test_a_prediction_of_the_wrong_size_is_named(tmp_path, capsys):
    data = tmp_path / "data"
    _img(data / "a_in.png"), _img(data / "a_gt.png")
    _img(tmp_path / "pred" / "a.png", size=(30, 48))
    assert _evaluate(tmp_path, "--pred", str(tmp_path / "pred")) == 2
    err = capsys.readouterr().err
    assert str(tmp_path / "pred" / "a.png") in err and "48x30" in err
    assert not (tmp_path / "report").exists()  # a failed run leaves no empty folder it made


def test_a_float_tiff_gets_a_clear_message(tmp_path, capsys):
    import tifffile

    data = tmp_path / "data"
    _img(data / "a_gt.png")
    tifffile.imwrite(data / "a_in.tif", np.random.default_rng(0).random((40, 48, 3), np.float32))
    assert _evaluate(tmp_path) == 2
    err = capsys.readouterr().err
    assert "a_in.tif" in err and "float" in err and "cannot identify" not in err


def test_decisions_of_an_automatic_method_are_a_report_column(tmp_path, monkeypatch):
    from deblurgan.restoration import Restoration

    class Chooser:
        name = "chooser"

        def restore(self, rgb):
            return Restoration(rgb, decision="uniform shake, kernel 21 px")

        def __call__(self, rgb):
            return rgb

        def settings(self):
            return {"method": "chooser"}

    data = tmp_path / "data"
    _img(data / "a_in.png"), _img(data / "a_gt.png")
    monkeypatch.setattr("deblurgan.cli.evaluate.method_from_args", lambda args: Chooser())
    argv = ["evaluate", "--data", str(data), "-q", "-o", str(tmp_path / "report")]
    assert main(argv) == 0
    report = tmp_path / "report"
    rows = json.loads((report / "results.json").read_text())["images"]
    assert rows[0]["decision"] == "uniform shake, kernel 21 px"
    assert "decision" in (report / "results.csv").read_text().splitlines()[0]
    assert "uniform shake, kernel 21 px" in (report / "report.html").read_text()
    assert _evaluate(tmp_path) == 0  # no method that decides: no column
    rows = json.loads((report / "results.json").read_text())["images"]
    assert "decision" not in rows[0]


def test_scoring_the_inputs_alone_draws_no_empty_legend(tmp_path):
    """--no-model without --pred: matplotlib warned "No artists with labels found"."""
    data = tmp_path / "data"
    _img(data / "a_in.png"), _img(data / "a_gt.png")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert _evaluate(tmp_path) == 0
    assert not [str(w.message) for w in caught if "legend" in str(w.message)]
    assert (tmp_path / "report" / "psnr_gain.png").is_file()


def test_a_border_that_leaves_too_little_image_is_refused_by_name(tmp_path, capsys):
    data = tmp_path / "data"
    _img(data / "a_in.png", size=(160, 192)), _img(data / "a_gt.png", size=(160, 192))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy "Mean of empty slice" on the way
        assert _evaluate(tmp_path, "--border", "100") == 2
        err = capsys.readouterr().err
        assert "--border 100 leaves 0x0 pixels of a 192x160 image" in err
        assert "at most 74 px" in err
        assert _evaluate(tmp_path, "--border", "74") == 0
