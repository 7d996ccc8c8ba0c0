"""Options that do not apply to the chosen method are refused, from one table per method."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from deblurgan.cli import main
from deblurgan.cli.options import METHOD_TAKES, OPTION_GROUPS
from deblurgan.methods import METHODS
from tests.test_extras import OPTIONAL, hiding


@pytest.mark.parametrize(
    "option",
    [
        ["--weights", "nope.safetensors"],
        ["--device", "cuda"],
        ["--precision", "int8"],
        ["--backend", "torch"],
        ["--tile", "64"],
        ["--stochastic"],
        ["--max-memory", "1GB"],
    ],
)
@pytest.mark.parametrize("command", ["deblur", "evaluate"])
def test_network_options_with_l0_are_refused_by_name(tmp_path, capsys, option, command):
    out = tmp_path / "out"
    where = ["x.png", "-o", str(out)] if command == "deblur" else ["--data", str(tmp_path)]
    if command == "evaluate":  # a complete pair, so that only the options can be wrong
        from tests.evaluation.test_evaluation import _img

        _img(tmp_path / "a_in.png"), _img(tmp_path / "a_gt.png")
        where += ["-o", str(out)]
    assert main([command, *where, "--method", "l0", *option, "-q"]) == 2
    err = capsys.readouterr().err
    assert f"{option[0]} is for a method that runs the network (" in err
    takers = err.split("runs the network (", 1)[1].split(")", 1)[0].split(", ")
    assert "network" in takers and "l0" not in takers and "), not l0;" in err
    assert not out.exists()  # refused before the output folder is created


@pytest.mark.parametrize("option", [["--kernel-size", "15"], ["--save-kernel"]])
def test_kernel_options_with_the_network_are_refused_by_name(tmp_path, capsys, option):
    argv = ["deblur", "x.png", "-o", str(tmp_path / "o"), "--method", "network", *option]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"{option[0]} is for a method that estimates kernels (" in err
    takers = err.split("estimates kernels (", 1)[1].split(")", 1)[0].split(", ")
    assert "l0" in takers and "network" not in takers and "), not network;" in err
    assert not (tmp_path / "o").exists()


def test_several_stray_options_are_named_together(tmp_path, capsys):
    argv = ["deblur", "x.png", "-o", str(tmp_path / "o"), "--method", "l0"]
    assert main([*argv, "--weights", "w.safetensors", "--precision", "fp16"]) == 2
    assert "--weights, --precision are for a method that runs the network" in (
        capsys.readouterr().err
    )


def test_every_method_has_a_row_and_every_row_names_known_groups():
    assert set(METHODS) <= set(METHOD_TAKES), "add the new method to METHOD_TAKES"
    assert all(groups <= set(OPTION_GROUPS) for groups in METHOD_TAKES.values())
    assert METHOD_TAKES["auto"] == frozenset(OPTION_GROUPS)  # the coming method takes both


NO_CUDA = pytest.mark.skipif(torch.cuda.is_available(), reason="these options run on a GPU")


@pytest.mark.parametrize(
    ("option", "words"),
    [
        (["--device", "bogus"], "unknown device 'bogus'"),
        pytest.param(["--device", "cuda"], "CUDA is not available", marks=NO_CUDA),
        pytest.param(["--precision", "fp16"], "'fp16' is not supported on cpu", marks=NO_CUDA),
        (["--device", "cpu", "--precision", "fp16"], "'fp16' is not supported on cpu"),
        (["--tile", "3"], "tile must be at least 8 pixels, got 3"),
        (["--tile", "64", "--stochastic"], "tile and stochastic cannot be combined"),
        (["--backend", "openvino", "--compile"], "backend auto or torch, not openvino"),
    ],
)
def test_auto_refuses_bad_network_options_before_the_first_photo(tmp_path, capsys, option, words):
    # a sharp photo, which auto returns unchanged without the network: refused all the same
    checker = (np.indices((64, 64)).sum(0) // 8 % 2 * 200 + 20).astype(np.uint8)
    Image.fromarray(np.repeat(checker[..., None], 3, -1)).save(tmp_path / "sharp.png")
    out = tmp_path / "out"
    assert main(["deblur", str(tmp_path / "sharp.png"), "-o", str(out), "-q", *option]) == 2
    err = capsys.readouterr().err
    assert err.startswith("deblurgan deblur: error: ") and words in err
    assert "stochastic" not in err or "--stochastic" in option  # only what is wrong
    assert not out.exists()  # refused before any photo


def test_the_network_check_imports_pytorch_only_for_options_that_need_it():
    check = (
        "import sys; from deblurgan.inference.cached_network import check_network_options as c; "
        "c(); c(stochastic=True); c(tile=64); c('cpu', 'fp32'); print('torch' in sys.modules); "
        "c('cpu', 'fp32', 'torch'); print('torch' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True)
    assert done.stdout.split() == ["False", "True"], done.stderr


def test_auto_on_the_core_refuses_options_that_need_pytorch_at_once(tmp_path):
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(tmp_path / "flat.png")
    argv = ["deblur", str(tmp_path / "flat.png"), "-o", str(tmp_path / "out"), "--tile", "64"]
    done = subprocess.run(
        [sys.executable, "-m", "deblurgan", *argv],
        env=hiding(tmp_path, OPTIONAL),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2, done.stderr
    assert "install deblurgan[torch]" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()
