"""Options that do not apply to the chosen method are refused, from one table per method."""

from __future__ import annotations

import pytest

from deblurgan.cli import main
from deblurgan.cli.options import METHOD_TAKES, OPTION_GROUPS
from deblurgan.methods import METHODS


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
