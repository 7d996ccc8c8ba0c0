import numpy as np
import pytest

from deblurgan.checkpoint import read_metadata, save_generator
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


def test_onnxruntime_backend_of_the_deblurrer_matches_torch(tiny_generator):
    rgb = np.random.default_rng(4).random((27, 42, 3), dtype=np.float32)
    fast = Deblurrer(tiny_generator, backend="onnxruntime")
    np.testing.assert_allclose(fast(rgb), Deblurrer(tiny_generator)(rgb), atol=1e-4)
    tiled = Deblurrer(tiny_generator, backend="onnxruntime", tile=16)  # tiling stays in torch
    np.testing.assert_allclose(tiled(rgb), Deblurrer(tiny_generator)(rgb), atol=1e-4)
    with pytest.raises(ValueError, match="deterministic, CPU and fp32"):
        Deblurrer(tiny_generator, backend="onnxruntime", stochastic=True)
    with pytest.raises(ValueError, match="unknown backend"):
        Deblurrer(tiny_generator, backend="tensorrt")


def test_cli_backend_option(tmp_path, tiny_generator):
    from PIL import Image

    save_generator(tiny_generator, tmp_path / "g.safetensors")
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (20, 24, 3), dtype=np.uint8)).save(
        tmp_path / "a.png"
    )
    for backend in ("torch", "onnxruntime"):
        assert (
            main(
                [
                    "deblur",
                    str(tmp_path / "a.png"),
                    "-o",
                    str(tmp_path / backend),
                    "--backend",
                    backend,
                    "--weights",
                    str(tmp_path / "g.safetensors"),
                    "-q",
                ]
            )
            == 0
        )
    a, b = (
        np.asarray(Image.open(tmp_path / n / "a.png")).astype(int) for n in ("torch", "onnxruntime")
    )
    assert np.abs(a - b).max() <= 1


def test_safetensors_fp16_export_halves_the_file_and_keeps_the_training_record(
    tmp_path, tiny_generator, capsys
):
    save_generator(tiny_generator, tmp_path / "g.safetensors", training={"iteration": 7})
    image = tmp_path / "a.png"
    from PIL import Image

    Image.fromarray(np.random.default_rng(0).integers(0, 256, (20, 24, 3), dtype=np.uint8)).save(
        image
    )
    args = ["export", "--format", "safetensors-fp16", "--weights", str(tmp_path / "g.safetensors")]
    assert main([*args, "-o", str(tmp_path / "h.safetensors"), "--verify", str(image)]) == 0
    assert read_metadata(tmp_path / "h.safetensors")["training"] == {"iteration": 7}
    full, half = ((tmp_path / n).stat().st_size for n in ("g.safetensors", "h.safetensors"))
    assert half < 0.6 * full
    line = next(x for x in capsys.readouterr().out.splitlines() if "float16 weights" in x)
    assert float(line.split("PSNR")[1].split("dB")[0]) > 45
