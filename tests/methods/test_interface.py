import numpy as np
import pytest

from deblurgan.blur.apply import blur_image
from deblurgan.checkpoint import save_generator
from deblurgan.methods import METHODS, MethodOptions, Restoration, build_method
from deblurgan.metrics import psnr

from ..deconv.conftest import line_kernel, shapes_scene


def test_every_method_in_the_table_offers_the_interface(tmp_path, identity_generator):
    save_generator(identity_generator, tmp_path / "g.safetensors")
    options = MethodOptions(weights=tmp_path / "g.safetensors", backend="torch", precision="fp32")
    image = np.random.default_rng(0).random((48, 40, 3)).astype(np.float32)
    assert set(METHODS) == {"auto", "network", "l0"}
    for name in METHODS:
        method = build_method(name, options)
        assert method.name == name and method.settings()["method"] == name
        restored = method.restore(image)
        assert isinstance(restored, Restoration) and restored.rgb.shape == image.shape
        stack = method(np.stack([image, image]))
        assert stack.shape == (2, *image.shape)
        assert np.allclose(stack[0], method(image), atol=1e-6)


def test_the_identity_network_returns_its_input_through_the_interface(tmp_path, identity_generator):
    save_generator(identity_generator, tmp_path / "g.safetensors")
    method = build_method(
        "network",
        MethodOptions(weights=tmp_path / "g.safetensors", backend="torch", precision="fp32"),
    )
    image = np.random.default_rng(1).random((20, 24, 3)).astype(np.float32)
    assert np.abs(method.restore(image).rgb - image).max() < 1e-5
    assert method.settings()["weights"] == str(tmp_path / "g.safetensors")


def test_l0_through_the_interface_sharpens_each_image_of_a_stack_with_its_kernel():
    sharp = np.stack([shapes_scene(64, seed) for seed in (0, 1, 2)], axis=-1)
    # blurred in linear light, as a camera blurs (on this scene of flat shapes the spectrum
    # takes a blur of the encoded values for one in linear light: docs/blind_deconvolution.md)
    blurred = blur_image(sharp, line_kernel(9, 7, 2), linear_light=True)
    blurred = np.clip(blurred, 0, 1).astype(np.float32)
    method = build_method("l0", MethodOptions(kernel_size=9))
    assert method.settings() == {"method": "l0", "kernel_size": 9}
    restored = method.restore(blurred)
    assert restored.note is None and restored.kernel.shape == (9, 9)
    assert restored.kernel.min() >= 0 and abs(restored.kernel.sum() - 1) < 1e-5
    assert psnr(restored.rgb, sharp) > psnr(blurred, sharp) + 5.0  # 7.8 dB in round 11
    stack = method(np.stack([blurred, blurred[::-1]]))
    assert np.array_equal(stack[0], restored.rgb)
    # The second image deblurred on its own, not the first one again:
    assert psnr(stack[1], sharp[::-1]) > psnr(blurred, sharp) + 5.0


def test_an_unknown_method_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="network, l0"):
        build_method("wiener")
