"""The fast start: a verdict recorded on the first run, the cached model run without PyTorch
on later runs, never a stale or damaged one."""

import subprocess
import sys

import numpy as np
import pytest
import torch

from deblurgan.checkpoint import save_generator
from deblurgan.inference import cached_network as cached_module
from deblurgan.inference.cached_network import (
    CachedNetwork,
    fast_start_request,
    load_network,
)
from deblurgan.inference.deblurrer import Deblurrer
from deblurgan.inference.model_cache import MANIFEST, cache_dir, verdict_path
from deblurgan.inference.policy import whole_image_peak_bytes
from deblurgan.io.images import ImageData, write_image
from deblurgan.nets import Generator, init_weights
from deblurgan.nets.architectures import ARCHITECTURES, build_generator

pytest.importorskip("openvino")


def _checkpoint(path, seed: int):
    generator = Generator(ngf=4, n_blocks=1)
    init_weights(generator, 0.2, torch.Generator().manual_seed(seed))
    save_generator(generator, path)
    return path


@pytest.fixture
def weights(tmp_path):
    return _checkpoint(tmp_path / "model.safetensors", seed=1)


def _fp32(weights, **options):
    """The network in fp32 on the CPU, through :func:`load_network` (OpenVINO by default)."""
    return load_network(weights, device="cpu", precision="fp32", **options)


def _rgb(height=21, width=30, seed=0):
    return np.random.default_rng(seed).random((height, width, 3), dtype=np.float32)


def test_second_load_comes_from_the_cache_and_gives_the_same_output(weights):
    first = _fp32(weights)
    assert isinstance(first, Deblurrer) and first.backend == "openvino"
    again = _fp32(weights)
    assert isinstance(again, CachedNetwork)
    assert again.settings() == first.settings()
    for rgb in (_rgb(), _rgb(5, 7), _rgb(1, 1), _rgb(16, 16)):  # mirrored, repeated, no padding
        np.testing.assert_array_equal(again(rgb), first(rgb))
    stack = np.stack([_rgb(seed=1), _rgb(seed=2)])
    np.testing.assert_array_equal(again(stack), first(stack))
    np.testing.assert_array_equal(again.restore(stack[0]).rgb, first(stack[0]))


def test_precision_auto_is_checked_once_then_read_from_the_verdict(weights, monkeypatch):
    first = load_network(weights, device="cpu")
    checks = []
    monkeypatch.setattr(Deblurrer, "_agreement", lambda self: checks.append(1) or 99.0)
    again = load_network(weights, device="cpu")
    assert isinstance(again, CachedNetwork) and checks == []
    assert again.precision == first.precision


def test_changed_weights_under_the_same_name_are_not_served_from_the_cache(weights):
    rgb = _rgb()
    old = _fp32(weights)(rgb)
    assert isinstance(_fp32(weights), CachedNetwork)
    _checkpoint(weights, seed=2)  # same file name, new content
    changed = _fp32(weights)
    assert isinstance(changed, Deblurrer)
    expected = Deblurrer.from_checkpoint(weights, precision="fp32", backend="torch")(rgb)
    np.testing.assert_allclose(changed(rgb), expected, atol=1e-5)
    assert np.abs(changed(rgb) - old).max() > 1e-3
    np.testing.assert_array_equal(_fp32(weights)(rgb), changed(rgb))


@pytest.mark.parametrize("damage", ["flip a byte", "truncate", "remove the manifest"])
def test_a_damaged_cache_entry_is_detected_and_rebuilt(weights, damage):
    rgb = _rgb()
    reference = _fp32(weights)(rgb)
    model = cache_dir() / _fp32(weights)._verdict.model
    binary = model / "generator.bin"
    original = binary.read_bytes()
    data = bytearray(original)
    if damage == "flip a byte":
        data[len(data) // 2] ^= 0xFF
        binary.write_bytes(bytes(data))
    elif damage == "truncate":
        binary.write_bytes(bytes(data[: len(data) // 2]))
    else:
        (model / MANIFEST).unlink()
    rebuilt = _fp32(weights)
    assert isinstance(rebuilt, Deblurrer)  # converted again, not run from the damaged copy
    assert (model / MANIFEST).is_file() and binary.read_bytes() == original
    np.testing.assert_array_equal(rebuilt(rgb), reference)
    assert isinstance(_fp32(weights), CachedNetwork)


def test_an_unreadable_verdict_is_decided_again(weights):
    _fp32(weights)
    request = fast_start_request("cpu", "fp32", "auto", False, None, False)
    path = verdict_path(cached_module.file_sha256(weights), request)
    path.write_text("{not json")
    assert isinstance(_fp32(weights), Deblurrer)
    assert isinstance(_fp32(weights), CachedNetwork)


def test_images_too_large_for_a_whole_pass_take_the_usual_path(weights):
    rgb = _rgb(40, 48)
    _fp32(weights)
    budget = whole_image_peak_bytes(4, 40, 48, "openvino") - 1
    cached = _fp32(weights, max_memory=budget)
    assert isinstance(cached, CachedNetwork)
    usual = Deblurrer.from_checkpoint(weights, device="cpu", precision="fp32", max_memory=budget)
    assert usual.plan(40, 48)[0] is not None  # tiled in PyTorch
    np.testing.assert_array_equal(cached(rgb), usual(rgb))


def test_what_the_fast_start_covers(monkeypatch):
    plain = dict(stochastic=False, tile=None, compile=False)
    assert fast_start_request("cpu", "int8", "openvino", **plain) is not None
    for device, precision, backend, extra in [
        ("cuda", "auto", "auto", {}),
        ("mps", "auto", "auto", {}),
        ("cpu", "fp16", "auto", {}),
        ("cpu", "auto", "torch", {}),
        ("cpu", "auto", "onnxruntime", {}),
        ("cpu", "auto", "auto", {"stochastic": True}),
        ("cpu", "auto", "auto", {"tile": 64}),
        ("cpu", "auto", "auto", {"compile": True}),
    ]:
        assert fast_start_request(device, precision, backend, **{**plain, **extra}) is None
    monkeypatch.setattr(cached_module, "gpu_may_be_visible", lambda: True)
    assert fast_start_request("auto", "auto", "auto", **plain) is None  # PyTorch must look
    assert fast_start_request("cpu", "auto", "auto", **plain) is not None


FAST_RUN = """
import sys
from deblurgan.cli import main
status = main(sys.argv[1:])
print(status, sorted(m for m in sys.modules if m == "torch" or m.startswith("torch.")))
"""


def test_deblur_command_with_a_cached_model_imports_no_pytorch(weights, tmp_path, monkeypatch):
    monkeypatch.setenv("DEBLURGAN_CACHE", str(tmp_path / "cache"))  # empty: first run converts
    source = tmp_path / "in"
    source.mkdir()
    write_image(source / "a.png", ImageData(_rgb()))

    def deblur(output: str) -> str:
        argv = ["deblur", str(source), "-o", str(tmp_path / output), "--weights", str(weights)]
        argv += ["--device", "cpu"]
        done = subprocess.run(
            [sys.executable, "-c", FAST_RUN, *argv, "-q", "--precision", "fp32"],
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip().splitlines()[-1]

    assert deblur("first") != "0 []"  # converted with PyTorch, verdict recorded
    assert deblur("second") == "0 []"  # from the cache: no torch module loaded
    first, second = ((tmp_path / name / "a.png").read_bytes() for name in ("first", "second"))
    assert first == second


def test_the_fast_start_pads_to_the_architectures_sides(tmp_path, monkeypatch):
    monkeypatch.setitem(ARCHITECTURES, "pooled", "tests.cli.test_architectures.PooledResidual")
    net = build_generator("pooled", {"width": 4})
    for parameter in net.parameters():
        torch.nn.init.normal_(parameter, 0.0, 0.5, generator=torch.Generator().manual_seed(0))
    save_generator(net, tmp_path / "pooled.safetensors")
    rgb = _rgb(30, 41)  # padded to 32 x 48: multiples of 8, not of the paper's 4
    first = _fp32(tmp_path / "pooled.safetensors")
    again = _fp32(tmp_path / "pooled.safetensors")
    assert isinstance(again, CachedNetwork) and (
        again._verdict.multiple,
        again._verdict.min_side,
    ) == (8, 16)
    np.testing.assert_array_equal(again(rgb), first(rgb))
    expected = Deblurrer(net, backend="torch")(rgb)
    np.testing.assert_allclose(again(rgb), expected, atol=1e-5)
