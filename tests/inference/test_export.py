import numpy as np
import pytest

from deblurgan.checkpoint import save_generator
from deblurgan.cli import main
from deblurgan.inference.deblurrer import Deblurrer
from deblurgan.inference.export import export_onnx, onnx_restore, onnx_session

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")
# the TorchScript-based exporter is deprecated since PyTorch 2.9 (the new one needs onnxscript)
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_onnx_matches_pytorch_at_several_sizes(tmp_path, tiny_generator):
    path = export_onnx(tiny_generator, tmp_path / "g.onnx")
    session = onnx_session(path)
    reference = Deblurrer(tiny_generator)
    rng = np.random.default_rng(0)
    for shape in [(32, 32, 3), (45, 70, 3), (3, 9, 3)]:  # dynamic height/width, odd sizes padded
        rgb = rng.random(shape, dtype=np.float32)
        out = onnx_restore(session, rgb)
        assert out.shape == shape
        np.testing.assert_allclose(out, reference(rgb), atol=1e-4)


def test_export_cli_verifies_on_real_images(tmp_path, tiny_generator, shared, capsys):
    save_generator(tiny_generator, tmp_path / "g.safetensors")
    image = shared / "data" / "gopro_crops256" / "val_epoch213_in.png"
    assert (
        main(
            [
                "export",
                "--weights",
                str(tmp_path / "g.safetensors"),
                "-o",
                str(tmp_path / "g.onnx"),
                "--verify",
                str(image),
            ]
        )
        == 0
    )
    line = next(x for x in capsys.readouterr().out.splitlines() if "onnxruntime vs PyTorch" in x)
    assert float(line.split("PSNR")[1].split("dB")[0]) > 45
