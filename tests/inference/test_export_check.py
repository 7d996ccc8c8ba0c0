import numpy as np
import pytest
from PIL import Image

from deblurgan.checkpoint import save_generator
from deblurgan.inference.export import export_onnx
from deblurgan.inference.export_check import verify_export


def test_exports_agree_with_pytorch_and_a_different_network_does_not(tmp_path, tiny_generator):
    pytest.importorskip("onnxruntime")
    image = tmp_path / "a.png"
    rgb = np.random.default_rng(0).integers(0, 256, (20, 24, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(image)
    export_onnx(tiny_generator, tmp_path / "g.onnx")
    (onnx,) = verify_export(tiny_generator, tmp_path / "g.onnx", True, [image])
    assert onnx.image == image and onnx.runtime == "onnxruntime" and onnx.psnr > 45
    save_generator(tiny_generator, tmp_path / "g.safetensors")
    (same,) = verify_export(tiny_generator, tmp_path / "g.safetensors", False, [image])
    assert same.runtime == "float16 weights" and same.psnr > 45
    for parameter in tiny_generator.parameters():  # now the original differs from the export
        parameter.data.add_(0.5)
    (changed,) = verify_export(tiny_generator, tmp_path / "g.safetensors", False, [image])
    assert changed.psnr < same.psnr - 10
