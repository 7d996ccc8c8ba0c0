"""The fast start: a verdict recorded on the first run, the cached model run without PyTorch
on later runs, never a stale or damaged one."""

import json
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
from deblurgan.inference.model_cache import MANIFEST, cache_dir, file_sha256, verdict_path
from deblurgan.inference.policy import whole_image_peak_bytes
from deblurgan.inference.weights import default_weights_path
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
    path = verdict_path(file_sha256(weights), request)
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
        argv = [
            "deblur",
            str(source),
            "-o",
            str(tmp_path / output),
            "--weights",
            str(weights),
            "--method",
            "network",
        ]
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


# --- issue 36 items 1-4 and issue 41's cache mutants


def test_weights_replaced_while_loading_never_serve_the_other_model(weights, monkeypatch):
    """The file is replaced by another model right after its first read (an editor saving, a
    training run writing ``latest``): the verdict recorded under the first model's hash must
    run the first model, not the one read later."""
    import os
    import pathlib

    from deblurgan.inference import model_cache

    original = weights.read_bytes()
    other = _checkpoint(weights.with_name("other.safetensors"), seed=2).read_bytes()
    replacement = weights.with_name("replacement")
    swapped = []

    def swap_after(read):
        def wrapper(self, *args, **kwargs):
            result = read(self, *args, **kwargs)
            if str(self) == str(weights) and not swapped:
                swapped.append(1)
                replacement.write_bytes(other)
                os.replace(replacement, weights)  # an open file keeps the old content
            return result

        return wrapper

    def open_then_swap(real):
        def wrapper(file, *args, **kwargs):
            handle = real(file, *args, **kwargs)
            if str(file) == str(weights) and not swapped:
                swapped.append(1)
                replacement.write_bytes(other)
                os.replace(replacement, weights)
            return handle

        return wrapper

    monkeypatch.setattr(pathlib.Path, "read_bytes", swap_after(pathlib.Path.read_bytes))
    monkeypatch.setattr(model_cache, "open", open_then_swap(open), raising=False)
    _fp32(weights)
    monkeypatch.undo()
    assert swapped and weights.read_bytes() == other
    weights.write_bytes(original)  # model A again: its verdict is used
    rgb = _rgb()
    cached = _fp32(weights)
    assert isinstance(cached, CachedNetwork)
    expected = Deblurrer.from_checkpoint(weights, precision="fp32", backend="torch")(rgb)
    np.testing.assert_allclose(cached(rgb), expected, atol=1e-5)


def test_a_folder_that_matches_its_manifest_but_does_not_compile_is_rebuilt(weights):
    from deblurgan.inference.model_cache import _describe

    rgb = _rgb()
    reference = _fp32(weights)(rgb)
    model = cache_dir() / _fp32(weights)._verdict.model
    xml, binary = model / "generator.xml", model / "generator.bin"
    original = binary.read_bytes()
    xml.write_bytes(b"<?xml version='1.0'?><net name='broken' version='11'><layers>")
    (model / MANIFEST).write_text(json.dumps(_describe(model)))  # still verifies
    rebuilt = _fp32(weights)
    assert isinstance(rebuilt, Deblurrer) and rebuilt.backend == "openvino"
    assert b"broken" not in xml.read_bytes()  # converted again, not kept
    assert binary.read_bytes() == original
    np.testing.assert_array_equal(rebuilt(rgb), reference)
    assert isinstance(_fp32(weights), CachedNetwork)


def test_a_cache_that_is_a_file_gives_the_right_output_with_one_warning(
    weights, tmp_path, monkeypatch
):
    from deblurgan.inference import model_cache

    rgb = _rgb()
    expected = Deblurrer.from_checkpoint(weights, precision="fp32", backend="torch")(rgb)
    blocker = tmp_path / "cache-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("DEBLURGAN_CACHE", str(blocker))
    monkeypatch.setattr(model_cache, "_warned_unwritable", set())
    with pytest.warns(model_cache.CacheNotWritableWarning, match="every run") as caught:
        for _ in range(2):
            network = _fp32(weights)
            assert network.backend == "openvino"
            np.testing.assert_allclose(network(rgb), expected, atol=1e-5)
    assert len([w for w in caught if w.category is model_cache.CacheNotWritableWarning]) == 1


def test_a_read_only_cache_with_a_damaged_model_gives_the_right_output(weights, monkeypatch):
    from deblurgan.inference import model_cache
    from tests.inference.test_model_cache import refuse_writes

    rgb = _rgb()
    reference = _fp32(weights)(rgb)
    model = cache_dir() / _fp32(weights)._verdict.model
    binary = model / "generator.bin"
    binary.write_bytes(binary.read_bytes()[:100])  # damaged, then the cache made read-only
    monkeypatch.setattr(model_cache, "_warned_unwritable", set())
    refuse_writes(monkeypatch, cache_dir())
    with pytest.warns(model_cache.CacheNotWritableWarning) as caught:
        network = _fp32(weights)  # no PermissionError
        np.testing.assert_array_equal(network(rgb), reference)
    assert len([w for w in caught if w.category is model_cache.CacheNotWritableWarning]) == 1


TRUNCATE_WHILE_RUNNING = """
import os, sys
import numpy as np
from deblurgan.inference.cached_network import CachedNetwork, load_network
from deblurgan.inference.model_cache import cache_dir
network = load_network(sys.argv[1], device="cpu", precision="fp32")
assert isinstance(network, CachedNetwork), type(network)
rgb = np.random.default_rng(0).random((64, 64, 3), dtype=np.float32)
before = network(rgb)
os.truncate(cache_dir() / network._verdict.model / "generator.bin", 0)
after = network(rgb)
print("same" if np.array_equal(before, after) else "changed")
"""


def test_a_cached_model_truncated_while_in_use_keeps_running(tmp_path, monkeypatch):
    """OpenVINO maps a model's .bin file by default: truncating it under a running model
    killed the process with SIGBUS (with the bundled model's size: the CPU plugin then uses
    the mapped weights in place). The model runs from memory instead."""
    monkeypatch.setenv("DEBLURGAN_CACHE", str(tmp_path / "cache"))
    weights = tmp_path / "bundled.safetensors"
    weights.write_bytes(default_weights_path().read_bytes())
    _fp32(weights)  # converted, verdict recorded
    done = subprocess.run(
        [sys.executable, "-c", TRUNCATE_WHILE_RUNNING, str(weights)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    assert done.stdout.strip().splitlines()[-1] == "same"
