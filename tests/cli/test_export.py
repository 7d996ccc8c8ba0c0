"""deblurgan export: ONNX and fp16 safetensors, verified."""

import numpy as np

from deblurgan.checkpoint import read_metadata, save_generator
from deblurgan.cli import main


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
