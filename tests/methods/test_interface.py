import numpy as np
import pytest

from deblurgan.checkpoint import save_generator
from deblurgan.methods import METHODS, MethodOptions, Restoration, build_method


def test_every_method_in_the_table_offers_the_interface(tmp_path, identity_generator):
    save_generator(identity_generator, tmp_path / "g.safetensors")
    options = MethodOptions(weights=tmp_path / "g.safetensors", backend="torch", precision="fp32")
    image = np.random.default_rng(0).random((48, 40, 3)).astype(np.float32)
    assert set(METHODS) == {"network", "l0"}
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


def test_an_unknown_method_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="network, l0"):
        build_method("wiener")
