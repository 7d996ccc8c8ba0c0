"""int8 through OpenVINO and NNCF: fixed calibration, agreement with fp32, the cache."""

import numpy as np
import pytest

from deblurgan import Deblurrer
from deblurgan.checkpoint import save_generator
from deblurgan.cli import main
from deblurgan.hardware import cpu_has_int8_dot_product
from deblurgan.inference.deblurrer import eight_bit_psnr
from deblurgan.inference.int8 import PHOTOS, RECIPE, calibration_inputs
from deblurgan.inference.model_cache import cache_dir
from deblurgan.inference.openvino_backend import model_key
from deblurgan.io.images import ImageData, read_image, write_image
from deblurgan.metrics import psnr
from deblurgan.nets import Generator
from tests.inference.test_bundled_model import HELD_OUT, REPO

pytest.importorskip("openvino")
pytest.importorskip("nncf")


def test_calibration_set_is_fixed_and_in_range():
    first, again = calibration_inputs(), calibration_inputs.__wrapped__()  # made anew
    assert len(first) == 8 * len(PHOTOS)
    assert all(a.shape == (1, 3, 256, 256) and a.dtype == np.float32 for a in first)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert min(a.min() for a in first) >= -1 and max(a.max() for a in first) <= 1


def test_int8_bundled_model_agrees_with_fp32_and_is_cached(example_fp32_reference):
    rgb = read_image(REPO / "examples" / "blurry_coffee.jpg").rgb
    quantized = Deblurrer.from_checkpoint(precision="int8")
    assert (quantized.backend, quantized.precision) == ("openvino", "int8")
    out = quantized(rgb)  # against fp32 PyTorch on the same photo (tests/inference/conftest.py)
    assert eight_bit_psnr(out, example_fp32_reference) > 38  # measured 42.8 dB (AVX512-VNNI)
    key = model_key(quantized.generator)
    assert (cache_dir() / f"{key}-{RECIPE}" / "generator.xml").is_file()
    np.testing.assert_array_equal(Deblurrer.from_checkpoint(precision="int8")(rgb), out)


def test_int8_needs_openvino_and_determinism(tiny_generator):
    with pytest.raises(ValueError, match="torch backend runs on .* in fp32/bf16/fp16"):
        Deblurrer(tiny_generator, precision="int8", backend="torch")
    with pytest.raises(ValueError, match="int8 runs in OpenVINO"):
        Deblurrer(tiny_generator, precision="int8", stochastic=True)


@pytest.mark.slow
@pytest.mark.skipif(
    not cpu_has_int8_dot_product(),
    reason="precision auto picks int8 only on CPUs with VNNI/AMX, where this rule is checked",
)
def test_int8_scores_within_a_tenth_of_a_db_of_fp32_on_held_out_gopro_pairs(shared):
    """The rule that lets precision auto pick int8 (checked on every set of
    benchmarks/generalization.py), here on three real pairs."""
    pairs = shared / "data" / "gopro_pairs"
    int8 = Deblurrer.from_checkpoint(precision="int8")
    fp32 = Deblurrer.from_checkpoint(precision="fp32", backend="torch")
    losses = []
    for name in HELD_OUT:
        blurred = read_image(pairs / "blur" / name).rgb
        sharp = read_image(pairs / "sharp" / name).rgb
        losses.append(psnr(fp32(blurred), sharp) - psnr(int8(blurred), sharp))
    assert np.mean(losses) <= 0.1, losses


def test_int8_leaves_what_the_network_leaves_alone_exactly(identity_generator):
    """The residual skip adds the unquantised input: with a zero residual, 8-bit pixels come
    back unchanged (quantising the skip put them half a level off)."""
    rgb = np.random.default_rng(0).integers(0, 256, (13, 22, 3)).astype(np.float32) / 255
    out = Deblurrer(identity_generator, precision="int8")(rgb)
    np.testing.assert_allclose(out, rgb, atol=1e-4 / 255)


def test_quiet_hides_nncfs_progress_bars_on_the_first_int8_run(tmp_path, monkeypatch, capsys):
    weights = tmp_path / "tiny.safetensors"
    save_generator(Generator(ngf=4, n_blocks=1), weights)
    write_image(tmp_path / "a.png", ImageData(np.full((16, 16, 3), 0.5, np.float32)))
    argv = ["deblur", str(tmp_path / "a.png"), "--method", "network", "--weights", str(weights)]
    argv += ["--device", "cpu", "--precision", "int8"]
    shown = {}
    for quiet in (False, True):
        monkeypatch.setenv("DEBLURGAN_CACHE", str(tmp_path / f"cache-{quiet}"))  # quantises
        assert main([*argv, "-o", str(tmp_path / f"out-{quiet}")] + ["-q"] * quiet) == 0
        printed = "".join(capsys.readouterr())
        shown[quiet] = "Statistics collection" in printed or "Fast Bias" in printed
    assert shown == {False: True, True: False}
