"""The bundled model's shipped OpenVINO conversion: in step with the checkpoint, checked
against its stored reference, and what a core install (no PyTorch) runs.

After retraining the bundled model, regenerate the shipped files with
``python -m tests.inference.test_bundled_ir`` (needs PyTorch and NNCF).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from deblurgan.inference import bundled_ir
from deblurgan.inference.bundled_ir import (
    DESCRIPTION,
    LAYOUT,
    MODELS,
    REFERENCE,
    BundledDescription,
    bundled_network,
    fp32_weights,
    read_description,
    weights_layout,
)
from deblurgan.inference.cached_network import CachedNetwork
from deblurgan.inference.policy import agreement_image, eight_bit_psnr
from deblurgan.inference.weights import default_weights_path

pytest.importorskip("openvino")


def regenerate(folder: Path | None = None) -> None:
    """Write the shipped conversion, its int8 quantisation, the reference output and the
    description into ``folder`` (default: the package's assets)."""
    import torch

    from deblurgan.checkpoint import load_generator
    from deblurgan.inference.deblurrer import Deblurrer
    from deblurgan.inference.int8 import RECIPE, quantize_int8
    from deblurgan.inference.openvino_runtime import openvino_module, telemetry_declined
    from deblurgan.runtime import eval_mode

    folder = folder or bundled_ir.assets()
    ov = openvino_module()
    weights = default_weights_path()
    generator = load_generator(weights)
    with torch.no_grad(), telemetry_declined(), eval_mode(generator):
        model = ov.convert_model(
            generator, example_input=torch.zeros(1, 3, 64, 64), input=[(1, 3, -1, -1)]
        )
        # fp16-stored weights: the checkpoint's own fp16 values, nothing rounded; the .bin
        # is not shipped, only how to assemble it from the checkpoint (the weights once)
        xml = folder / f"{MODELS['fp32']}.xml"
        ov.save_model(model, str(xml), compress_to_fp16=True)
        layout = weights_layout(
            xml.read_bytes(), xml.with_suffix(".bin").read_bytes(), weights.read_bytes()
        )
        (folder / LAYOUT).write_text(json.dumps(layout, indent=0))
        xml.with_suffix(".bin").unlink()
        int8 = quantize_int8(model)
        ov.save_model(int8, str(folder / f"{MODELS['int8']}.xml"), compress_to_fp16=False)
    reference = Deblurrer(generator, device="cpu", precision="fp32", backend="torch")
    np.save(folder / REFERENCE, reference(agreement_image()).astype(np.float32))
    description = BundledDescription(
        weights_sha256=hashlib.sha256(weights.read_bytes()).hexdigest(),
        channels=int(generator.full_resolution_channels),
        multiple=int(generator.size_multiple),
        min_side=int(generator.min_side),
        int8_recipe=RECIPE,
    )
    (folder / DESCRIPTION).write_text(json.dumps(dataclasses.asdict(description), indent=1))


def test_the_shipped_files_are_small_and_describe_the_bundled_checkpoint():
    folder = bundled_ir.assets()
    description = read_description()
    assert (
        description.weights_sha256
        == hashlib.sha256(default_weights_path().read_bytes()).hexdigest()
    ), "the bundled model changed: python -m tests.inference.test_bundled_ir"
    shipped = [f"{MODELS['fp32']}.xml", LAYOUT, f"{MODELS['int8']}.xml", f"{MODELS['int8']}.bin"]
    sizes = {name: (folder / name).stat().st_size for name in shipped}
    assert sum(sizes.values()) < 3 * 2**20, sizes  # the checkpoint is 3.9 MB: not again
    assert not (folder / f"{MODELS['fp32']}.bin").exists()
    assert np.load(folder / REFERENCE).shape == (*agreement_image().shape[:2], 3)


def test_the_fp32_weights_are_the_checkpoints_tensors_and_nothing_else_fits(tmp_path):
    checkpoint = default_weights_path().read_bytes()
    weights = fp32_weights(bundled_ir.assets(), default_weights_path())
    layout = json.loads((bundled_ir.assets() / LAYOUT).read_text())
    tensors = bundled_ir.tensor_bytes(checkpoint)
    named = [value for _, kind, value in layout["segments"] if kind == "tensor"]
    assert sorted(named) == sorted(tensors)  # every tensor, each once
    assert sum(len(tensors[name]) for name in named) > 0.99 * len(weights)
    xml = (bundled_ir.assets() / f"{MODELS['fp32']}.xml").read_bytes()
    assert weights_layout(xml, weights, checkpoint) == layout  # the round trip
    other = bytearray(checkpoint)
    other[-2:] = bytes(2)  # a checkpoint other than the one converted
    (tmp_path / "other.safetensors").write_bytes(bytes(other))
    with pytest.raises(ValueError, match="not the converted ones"):
        fp32_weights(bundled_ir.assets(), tmp_path / "other.safetensors")


def test_the_stored_reference_is_eager_pytorch_fp32():
    from deblurgan.inference.deblurrer import Deblurrer

    eager = Deblurrer.from_checkpoint(device="cpu", precision="fp32", backend="torch")
    reference = np.load(bundled_ir.assets() / REFERENCE)
    np.testing.assert_allclose(reference, eager(agreement_image()), atol=1e-5)


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_the_shipped_models_agree_with_the_reference(precision):
    network = bundled_network(precision)
    assert isinstance(network, CachedNetwork) and network.precision == precision
    reference = np.load(bundled_ir.assets() / REFERENCE)
    agreement = eight_bit_psnr(network(agreement_image()), reference)
    assert agreement >= (60 if precision == "fp32" else 35), agreement
    assert network.settings()["weights"] == "bundled"


def test_auto_takes_int8_only_where_it_is_fast_and_agrees(monkeypatch):
    monkeypatch.setattr(bundled_ir.hardware, "cpu_has_int8_dot_product", lambda: True)
    monkeypatch.setattr(bundled_ir.hardware, "cpu_has_native_bf16", lambda: False)
    assert bundled_network("auto").precision == "int8"
    monkeypatch.setattr(bundled_ir, "AGREEMENT_DB", {"int8": 99.0, "bf16": 99.0})
    with pytest.warns(UserWarning, match="int8 agrees with fp32 to only"):
        assert bundled_network("auto").precision == "fp32"
    monkeypatch.setattr(bundled_ir.hardware, "cpu_has_int8_dot_product", lambda: False)
    assert bundled_network("auto").precision == "fp32"


def test_a_damaged_shipped_model_is_refused(tmp_path, monkeypatch):
    import shutil

    for path in bundled_ir.assets().iterdir():
        shutil.copy(path, tmp_path / path.name)
    reference = np.load(tmp_path / REFERENCE)
    np.save(tmp_path / REFERENCE, 1 - reference)  # as if the model were stale or damaged
    monkeypatch.setattr(bundled_ir, "assets", lambda: tmp_path)
    with pytest.raises(ValueError, match="damaged installation"):
        bundled_network("fp32")
    (tmp_path / DESCRIPTION).unlink()
    with pytest.raises(ValueError, match="reinstall deblurgan"):
        bundled_network("fp32")


def test_the_shipped_fp32_model_deblurs_like_pytorch():
    from deblurgan.inference.deblurrer import Deblurrer

    rgb = np.random.default_rng(0).random((37, 50, 3), dtype=np.float32)
    eager = Deblurrer.from_checkpoint(device="cpu", precision="fp32", backend="torch")
    np.testing.assert_allclose(bundled_network("fp32")(rgb), eager(rgb), atol=2e-4)


def test_without_pytorch_the_budget_grows_to_the_free_memory_and_refuses_beyond(monkeypatch):
    from deblurgan.extras import MissingExtraError
    from deblurgan.inference import cached_network
    from deblurgan.inference.policy import DEFAULT_MAX_MEMORY

    monkeypatch.setattr(bundled_ir.hardware, "available_memory", lambda: 64 * 2**30)
    assert bundled_network("fp32").max_memory == 48 * 2**30  # no tiles without PyTorch
    monkeypatch.setattr(bundled_ir.hardware, "available_memory", lambda: None)
    assert bundled_network("fp32").max_memory == DEFAULT_MAX_MEMORY
    monkeypatch.setattr(cached_network, "torch_installed", lambda: False)
    small = bundled_network("fp32", max_memory=2**20)  # asked for: kept
    with pytest.raises(MissingExtraError, match=r"20x10 image in tiles.*deblurgan\[torch\]"):
        small(np.zeros((10, 20, 3), np.float32))


if __name__ == "__main__":
    regenerate(Path(sys.argv[1]) if len(sys.argv) > 1 else None)
    print(f"wrote the bundled model's OpenVINO files into {bundled_ir.assets()}")
