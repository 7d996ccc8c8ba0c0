import subprocess
import sys

import pytest

from deblurgan.nets import Generator
from deblurgan.nets.architectures import (
    ARCHITECTURES,
    DEFAULT_ARCHITECTURE,
    architecture_class,
    architecture_name,
    build_generator,
    check_architecture,
)


def test_the_default_is_the_papers_generator():
    assert DEFAULT_ARCHITECTURE in ARCHITECTURES
    assert architecture_class(DEFAULT_ARCHITECTURE) is Generator
    net = build_generator("resnet", {"ngf": 4, "n_blocks": 1})
    assert type(net) is Generator and net.config["ngf"] == 4
    assert architecture_name(net) == "resnet"


def test_unknown_names_fail_naming_the_choices():
    with pytest.raises(
        ValueError, match="unknown architecture 'unet'; the choices are: nafnet, resnet"
    ):
        check_architecture("unet")
    with pytest.raises(ValueError, match="choices are: nafnet, resnet"):
        build_generator("unet", {})
    with pytest.raises(ValueError, match="not in the architecture table"):
        architecture_name(object())


def test_what_inference_needs_is_on_the_class():
    net = Generator(ngf=6, n_blocks=1)
    assert (net.size_multiple, net.min_side, net.full_resolution_channels) == (4, 8, 6)


def test_the_table_loads_without_pytorch():
    code = "import sys, deblurgan.nets.architectures; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
