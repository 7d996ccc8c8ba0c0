import numpy as np
import pytest

from deblurgan.inference.deblurrer import Deblurrer
from deblurgan.inference.export import export_onnx, onnx_restore, onnx_session

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")
# the TorchScript-based exporter is deprecated since PyTorch 2.9 (the new one needs onnxscript)
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_onnx_matches_pytorch_at_several_sizes(tmp_path, tiny_generator):
    path = export_onnx(tiny_generator, tmp_path / "g.onnx")
    session = onnx_session(path)
    reference = Deblurrer(tiny_generator, precision="fp32")
    rng = np.random.default_rng(0)
    for shape in [(32, 32, 3), (45, 70, 3), (3, 9, 3)]:  # dynamic height/width, odd sizes padded
        rgb = rng.random(shape, dtype=np.float32)
        out = onnx_restore(session, rgb)
        assert out.shape == shape
        np.testing.assert_allclose(out, reference(rgb), atol=1e-4)


def test_onnxruntime_backend_of_the_deblurrer_matches_torch(tiny_generator):
    rgb = np.random.default_rng(4).random((27, 42, 3), dtype=np.float32)
    fast = Deblurrer(tiny_generator, backend="onnxruntime")
    exact = Deblurrer(tiny_generator, precision="fp32")(rgb)
    np.testing.assert_allclose(fast(rgb), exact, atol=1e-4)
    tiled = Deblurrer(tiny_generator, backend="onnxruntime", tile=16)  # tiling stays in torch
    np.testing.assert_allclose(tiled(rgb), exact, atol=1e-4)
    with pytest.raises(
        ValueError, match="onnxruntime backend runs on cpu in fp32, deterministic only"
    ):
        Deblurrer(tiny_generator, backend="onnxruntime", stochastic=True)
    with pytest.raises(ValueError, match="unknown backend"):
        Deblurrer(tiny_generator, backend="tensorrt")
