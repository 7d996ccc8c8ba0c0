import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from deblurgan import Deblurrer
from deblurgan.inference.backends import BUILDERS
from deblurgan.inference.model_cache import cache_dir
from deblurgan.inference.openvino_backend import compile_openvino, model_key
from deblurgan.inference.policy import whole_image_peak_bytes

pytest.importorskip("openvino")


@pytest.mark.parametrize("size", [(8, 8), (27, 42), (64, 33)])
def test_openvino_matches_pytorch_at_odd_sizes(tiny_generator, size):
    rgb = np.random.default_rng(sum(size)).random((*size, 3), dtype=np.float32)
    fast = Deblurrer(tiny_generator, backend="openvino", precision="fp32")
    np.testing.assert_allclose(
        fast(rgb), Deblurrer(tiny_generator, backend="torch")(rgb), atol=1e-5
    )


def test_auto_backend_picks_openvino_only_where_it_applies(tiny_generator):
    assert Deblurrer(tiny_generator).backend == "openvino"
    assert Deblurrer(tiny_generator, stochastic=True).backend == "torch"
    with pytest.raises(
        ValueError, match="openvino backend runs on cpu in fp32/bf16/int8, deterministic"
    ):
        Deblurrer(tiny_generator, backend="openvino", stochastic=True)
    rgb = np.random.default_rng(1).random((30, 30, 3), dtype=np.float32)
    tiled = Deblurrer(tiny_generator, tile=16)  # tiles always run in PyTorch, exactly
    np.testing.assert_allclose(
        tiled(rgb), Deblurrer(tiny_generator, backend="torch")(rgb), atol=1e-5
    )


def test_converted_model_is_cached_by_weights(tiny_generator, tmp_path):
    compile_openvino(tiny_generator, cache=tmp_path)
    key = model_key(tiny_generator)
    assert (tmp_path / key / "generator.xml").is_file()
    assert [p.name for p in tmp_path.iterdir()] == [key]  # no staging folder left
    compile_openvino(tiny_generator, cache=tmp_path)  # read back from the cache
    changed = Deblurrer(tiny_generator, backend="torch").generator
    with torch.no_grad():
        changed.head.bias.add_(0.1)
    assert model_key(changed) != key


def test_unwritable_cache_still_runs(tiny_generator, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    compiled = compile_openvino(tiny_generator, cache=blocker / "cache")
    out = compiled(np.zeros((1, 3, 8, 8), np.float32))[0]
    assert out.shape == (1, 3, 8, 8)


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("DEBLURGAN_CACHE", str(tmp_path))
    assert cache_dir() == tmp_path / "openvino"


def test_failed_conversion_falls_back_to_pytorch_under_auto_only(tiny_generator, monkeypatch):
    def broken(*args):
        raise RuntimeError("converter exploded")

    rgb = np.random.default_rng(0).random((12, 20, 3), dtype=np.float32)
    budget = whole_image_peak_bytes(4, 4000, 4000) - 1  # enough for OpenVINO, not PyTorch
    assert (
        Deblurrer(tiny_generator, max_memory=budget, precision="fp32").plan(4000, 4000)[0] is None
    )
    monkeypatch.setitem(BUILDERS, "openvino", broken)
    with pytest.warns(UserWarning, match="converter exploded.*using PyTorch"):
        auto = Deblurrer(tiny_generator, max_memory=budget, precision="fp32")  # converted here
    assert auto.backend == "torch" and auto.plan(4000, 4000)[0] == 256  # PyTorch's memory
    np.testing.assert_array_equal(auto(rgb), Deblurrer(tiny_generator, backend="torch")(rgb))
    assert auto.backend == "torch" and auto.plan(4000, 4000)[0] == 256  # and it stays so
    with pytest.raises(RuntimeError, match="converter exploded"):
        Deblurrer(tiny_generator, backend="openvino", precision="fp32")


TELEMETRY_PROBE = """
import json, sys
from pathlib import Path
import torch
from openvino_telemetry.utils.sender import TelemetrySender
from deblurgan.nets import Generator

sent = []
TelemetrySender.send = lambda self, backend, message: sent.append(message)
generator = Generator(ngf=4, n_blocks=1).eval()
if sys.argv[1] == "deblurgan":
    import numpy as np
    from deblurgan.inference import int8
    from deblurgan.inference.openvino_backend import compile_openvino

    # Two small calibration inputs instead of the 48 256x256 crops: the same conversion and
    # NNCF calls (statistics are sent per call, not per image), in a third of the time.
    int8.calibration_inputs = lambda: tuple(
        np.random.default_rng(0).uniform(-1, 1, (2, 1, 3, 32, 32)).astype(np.float32)
    )
    compile_openvino(generator, "int8", cache=Path.home() / "cache")
else:  # OpenVINO's own default
    import openvino as ov

    with torch.no_grad():
        ov.convert_model(generator, example_input=torch.zeros(1, 3, 16, 16))
print(json.dumps([len(sent), (Path.home() / "intel").exists()]))
"""


@pytest.mark.slow
def test_conversion_and_quantisation_send_no_usage_statistics(tmp_path):
    """OpenVINO and NNCF send usage statistics unless opted out; deblurgan's import, conversion
    and quantisation do not, and leave no client ID behind. Each probe runs in a fresh process
    with its own home folder and no CI variables, as on a user's machine."""
    pytest.importorskip("openvino_telemetry")
    pytest.importorskip("nncf")
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "TF_BUILD", "JENKINS_URL")}
    probes = {}
    for caller in ("deblurgan", "openvino"):  # independent: both at once
        home = tmp_path / caller
        home.mkdir()
        probes[caller] = subprocess.Popen(
            [sys.executable, "-c", TELEMETRY_PROBE, caller],
            env={**env, "HOME": str(home)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    result = {}
    try:
        for caller, probe in probes.items():
            out, err = probe.communicate(timeout=600)
            assert probe.returncode == 0, err[-3000:]
            result[caller] = json.loads(out.strip().splitlines()[-1])
    finally:  # a probe still running after a failure is ended
        for probe in probes.values():
            probe.kill()
            probe.wait()
    assert result["deblurgan"] == [0, False]
    assert result["openvino"][0] > 0 and result["openvino"][1]  # what the probe would see
