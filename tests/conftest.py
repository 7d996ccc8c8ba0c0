"""Shared fixtures: tiny networks and the path of ../shared (tests that need it skip without it)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
import torch

from deblurgan.detection.darknet import load_darknet
from deblurgan.nets import Generator, init_weights

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture
def shared() -> Path:
    """The project's ../shared folder; the test is skipped when it is absent."""
    if not (SHARED / "data").is_dir():
        pytest.skip("../shared/data is not available")
    return SHARED


@pytest.fixture(scope="session")
def ship_rule() -> ModuleType:
    """`benchmarks/generalization.py`, the home of the ship rule the tests check."""
    script = REPO / "benchmarks" / "generalization.py"
    spec = importlib.util.spec_from_file_location("generalization_script", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def tiny_generator() -> Generator:
    """A randomly initialised, very narrow generator (deterministic weights)."""
    net = Generator(ngf=4, n_blocks=1)
    init_weights(net, generator=torch.Generator().manual_seed(0))
    return net.eval()


@pytest.fixture
def identity_generator() -> Generator:
    """A tiny generator whose residual branch is zero, so it returns its input."""
    net = Generator(ngf=4, n_blocks=1)
    torch.nn.init.zeros_(net.head.weight)
    torch.nn.init.zeros_(net.head.bias)
    return net.eval()


@pytest.fixture(autouse=True, scope="session")
def _converted_model_cache(tmp_path_factory):
    """Keep OpenVINO's converted models (Deblurrer backend "auto") out of the user's cache."""
    import os

    previous = os.environ.get("DEBLURGAN_CACHE")
    os.environ["DEBLURGAN_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if previous is None:
        del os.environ["DEBLURGAN_CACHE"]
    else:
        os.environ["DEBLURGAN_CACHE"] = previous


@pytest.fixture(scope="module")
def yolo(request):
    """YOLOv3-tiny from ../shared: (model, parameter count, class names, folder)."""
    root = request.config.rootpath.parent / "shared" / "weights" / "yolov3-tiny"
    if not (root / "yolov3-tiny.weights").is_file():
        pytest.skip("../shared/weights/yolov3-tiny is not available")
    model, count = load_darknet(root / "yolov3-tiny.cfg", root / "yolov3-tiny.weights")
    return model, count, (root / "coco.names").read_text().split("\n"), root
