import numpy as np
import pytest
import torch

from deblurgan import hardware, runtime
from deblurgan.checkpoint import CheckpointError, save_generator
from deblurgan.hardware import cpu_has_int8_dot_product, cpu_has_native_bf16
from deblurgan.inference import deblurrer as deblurrer_module
from deblurgan.inference.deblurrer import Deblurrer, agreement_image, eight_bit_psnr, restore
from deblurgan.inference.policy import BACKENDS
from deblurgan.nets.tensors import crop_padding, pad_to_multiple


@pytest.mark.parametrize("size", [(1, 1), (3, 517), (721, 1283), (8, 8), (5, 4)])
def test_any_size_comes_back_at_full_resolution(tiny_generator, size):
    x = torch.rand(1, 3, *size) * 2 - 1
    assert restore(tiny_generator, x).shape == x.shape


@pytest.mark.parametrize("size", [(1, 1), (2, 9), (7, 13), (16, 12)])
def test_pad_then_crop_is_identity_and_padded_sides_fit_the_network(size):
    x = torch.randn(2, 3, *size)
    padded, pads = pad_to_multiple(x)
    assert padded.shape[-2] % 4 == 0 and padded.shape[-1] % 4 == 0
    assert min(padded.shape[-2:]) >= 8
    torch.testing.assert_close(crop_padding(padded, pads), x, rtol=0, atol=0)


def test_padding_mirrors_the_image():
    x = torch.arange(6.0).reshape(1, 1, 1, 6).expand(1, 1, 8, 6)
    padded, pads = pad_to_multiple(x)
    assert pads == (1, 1, 0, 0)
    assert padded[0, 0, 0].tolist() == [1, 0, 1, 2, 3, 4, 5, 4]


def test_identity_model_returns_the_image(identity_generator):
    rgb = np.random.default_rng(0).random((13, 22, 3), dtype=np.float32)
    out = Deblurrer(identity_generator)(rgb)
    assert out.dtype == np.float32 and out.shape == rgb.shape
    np.testing.assert_allclose(out, rgb, atol=1e-6)


def test_deterministic_by_default_and_stochastic_reproducible_per_seed(tiny_generator):
    rgb = np.random.default_rng(1).random((16, 16, 3), dtype=np.float32)
    plain = Deblurrer(tiny_generator)
    np.testing.assert_array_equal(plain(rgb), plain(rgb))
    seeded = Deblurrer(tiny_generator, stochastic=True, seed=5)
    first = seeded(rgb)
    np.testing.assert_array_equal(first, seeded(rgb))  # re-seeded per image: order does not matter
    assert not np.array_equal(first, Deblurrer(tiny_generator, stochastic=True, seed=6)(rgb))
    assert not np.array_equal(first, plain(rgb))
    assert not tiny_generator.training


@pytest.mark.filterwarnings("ignore:this CPU has no native bf16")
def test_bf16_on_cpu_agrees_with_fp32(tiny_generator):
    rgb = np.random.default_rng(2).random((32, 40, 3), dtype=np.float32)
    fp32 = Deblurrer(tiny_generator, backend="torch")(rgb)
    bf16 = Deblurrer(tiny_generator, precision="bf16", backend="torch")(rgb)
    psnr = 10 * np.log10(1.0 / np.mean((fp32 - bf16) ** 2))
    assert psnr > 35


def test_unsupported_precision_or_device_is_refused(tiny_generator):
    with pytest.raises(ValueError, match="fp16.*not supported on cpu"):
        Deblurrer(tiny_generator, precision="fp16")
    with pytest.raises(ValueError, match="unknown device"):
        Deblurrer(tiny_generator, device="tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            Deblurrer(tiny_generator, device="cuda")


def test_non_rgb_array_is_refused(tiny_generator):
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        Deblurrer(tiny_generator)(np.zeros((4, 4), np.float32))


def test_from_checkpoint(tmp_path, tiny_generator):
    save_generator(tiny_generator, tmp_path / "g.safetensors")
    rgb = np.random.default_rng(3).random((9, 9, 3), dtype=np.float32)
    loaded = Deblurrer.from_checkpoint(tmp_path / "g.safetensors")
    np.testing.assert_array_equal(loaded(rgb), Deblurrer(tiny_generator)(rgb))


def test_missing_bundled_model_names_the_weights_option(monkeypatch):
    from deblurgan.inference import weights

    monkeypatch.setattr(weights, "BUNDLED_WEIGHTS", "no-such-file.safetensors")
    with pytest.raises(CheckpointError, match="--weights"):
        Deblurrer.from_checkpoint()


def test_a_stack_of_images_equals_one_by_one(tiny_generator):
    stack = np.random.default_rng(3).random((3, 20, 28, 3), dtype=np.float32)
    for deblur in (
        Deblurrer(tiny_generator, backend="torch"),
        Deblurrer(tiny_generator, stochastic=True, seed=5),  # masks re-seeded per image
    ):
        together = deblur(stack)
        assert together.shape == stack.shape
        for image, restored in zip(stack, together):
            np.testing.assert_allclose(restored, deblur(image), atol=1e-6)
    with pytest.raises(ValueError, match=r"\(N, H, W, 3\)"):
        Deblurrer(tiny_generator)(stack[..., :2])


def _pretend_cpu(monkeypatch, int8: bool, bf16: bool) -> None:
    """Make this CPU look as if it had (or lacked) int8 dot products and native bf16, both
    where auto lists its candidates and where it picks their runtime."""
    monkeypatch.setattr(hardware, "cpu_has_int8_dot_product", lambda: int8)
    for module in (hardware, runtime):
        monkeypatch.setattr(module, "cpu_has_native_bf16", lambda: bf16)


@pytest.mark.parametrize(
    ("int8", "bf16", "expected"),
    [(True, True, "int8"), (True, False, "int8"), (False, True, "bf16"), (False, False, "fp32")],
)
def test_auto_precision_is_the_fastest_one_this_cpu_runs_natively(
    tiny_generator, monkeypatch, int8, bf16, expected
):
    pytest.importorskip("openvino")
    pytest.importorskip("nncf")
    _pretend_cpu(monkeypatch, int8=int8, bf16=bf16)
    monkeypatch.setattr(deblurrer_module, "eight_bit_psnr", lambda a, b: 99.0)
    auto = Deblurrer(tiny_generator)
    assert (auto.precision, auto.backend) == (expected, "openvino")
    # OpenVINO's precisions only for its deterministic whole-image passes
    assert Deblurrer(tiny_generator, stochastic=True).precision == "fp32"
    assert Deblurrer(tiny_generator, tile=32).precision == "fp32"  # tiles run in PyTorch
    assert Deblurrer(tiny_generator, backend="torch").precision == "fp32"
    assert Deblurrer(tiny_generator, precision="fp32").precision == "fp32"  # explicit wins


def test_auto_precision_on_this_cpu(tiny_generator):
    auto = Deblurrer(tiny_generator)
    native = {"int8": cpu_has_int8_dot_product(), "bf16": cpu_has_native_bf16()}
    if auto.precision != "fp32":
        assert native[auto.precision] and auto.backend == "openvino"
    elif BACKENDS["openvino"].available():
        assert not any(native.values())  # or the check image refused both (a warning)
    else:  # without OpenVINO the CPU runs plain PyTorch in fp32
        assert auto.backend == "torch"


def test_auto_precision_falls_back_when_it_disagrees(tiny_generator, monkeypatch):
    pytest.importorskip("nncf")
    _pretend_cpu(monkeypatch, int8=False, bf16=True)
    monkeypatch.setattr(deblurrer_module, "eight_bit_psnr", lambda a, b: 40.0)
    with pytest.warns(UserWarning, match="bf16 agrees with fp32 to only 40.0 dB.*not using it"):
        assert Deblurrer(tiny_generator).precision == "fp32"
    _pretend_cpu(monkeypatch, int8=True, bf16=True)
    assert Deblurrer(tiny_generator).precision == "int8"  # int8's own bound is 35 dB
    monkeypatch.setattr(deblurrer_module, "eight_bit_psnr", lambda a, b: 31.5)
    with pytest.warns(UserWarning) as caught:
        assert Deblurrer(tiny_generator).precision == "fp32"
    assert [str(w.message)[:36] for w in caught] == [
        "int8 agrees with fp32 to only 31.5 d",
        "bf16 agrees with fp32 to only 31.5 d",
    ]


def test_eight_bit_psnr_and_the_check_image():
    image = agreement_image()
    assert image.shape == (96, 128, 3) and 0 <= image.min() and image.max() <= 1
    assert image.std(axis=(0, 1)).min() > 0.1  # texture in every channel
    assert eight_bit_psnr(image, image) == float("inf")
    shifted = np.clip(image + 1 / 255, 0, 1)  # one level everywhere (but where clipped)
    assert 48.1 < eight_bit_psnr(image, shifted) < 49


@pytest.mark.slow
def test_compiled_network_agrees_with_eager_and_tiles_stay_eager(tiny_generator):
    image = np.random.default_rng(4).random((36, 52, 3), dtype=np.float32)
    eager = Deblurrer(tiny_generator, backend="torch", precision="fp32")
    compiled = Deblurrer(tiny_generator, precision="fp32", compile=True)  # auto -> torch
    assert (compiled.backend, compiled.compiled, eager.compiled) == ("torch", True, False)
    np.testing.assert_allclose(compiled(image), eager(image), atol=1e-5)
    tiled = Deblurrer(tiny_generator, precision="fp32", compile=True, tile=16)
    assert tiled(image).tobytes() == Deblurrer(tiny_generator, tile=16)(image).tobytes()


def test_compile_needs_the_deterministic_pytorch_network(tiny_generator):
    with pytest.raises(ValueError, match="compile and stochastic cannot be combined"):
        Deblurrer(tiny_generator, compile=True, stochastic=True)
    with pytest.raises(ValueError, match="backend auto or torch"):
        Deblurrer(tiny_generator, compile=True, backend="openvino")


@pytest.mark.parametrize(
    "options", [{"backend": "torch"}, {"tile": 16}, {"backend": "openvino", "precision": "fp32"}]
)
def test_the_callers_network_keeps_its_mode_and_is_run_in_eval_mode(tiny_generator, options):
    if options.get("backend") == "openvino":
        pytest.importorskip("openvino")
    rgb = np.random.default_rng(4).random((20, 24, 3), dtype=np.float32)
    expected = Deblurrer(tiny_generator.eval(), backend="torch")(rgb)
    tiny_generator.train()
    deblur = Deblurrer(tiny_generator, **options)
    np.testing.assert_allclose(deblur(rgb), expected, atol=1e-5)  # no dropout: eval mode
    assert all(module.training for module in tiny_generator.modules())
