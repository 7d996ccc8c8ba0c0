"""16-bit PNG and TIFF samples, read and written without losing their low byte."""

import numpy as np
import tifffile
from PIL import Image

from deblurgan.io.deep_samples import (
    float_tiff_reason,
    is_16bit_colour_png,
    read_png16,
    tiff_bits,
    write_png16,
)


def test_16bit_png_round_trip_keeps_every_sample_and_is_told_apart(tmp_path):
    rng = np.random.default_rng(0)
    for planes in (1, 2, 3, 4):
        pixels = rng.integers(0, 65536, (5, 7, planes), dtype=np.uint16)
        path = tmp_path / f"p{planes}.png"
        write_png16(path, pixels[..., 0] if planes == 1 else pixels)
        np.testing.assert_array_equal(read_png16(path), pixels)
        # plain gray Pillow reads in full; colour or alpha it would truncate
        assert is_16bit_colour_png(path) == (planes >= 2)
    Image.fromarray(rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)).save(tmp_path / "8.png")
    assert not is_16bit_colour_png(tmp_path / "8.png")


def test_tiff_bits_and_the_reason_a_float_tiff_is_refused(tmp_path):
    tifffile.imwrite(tmp_path / "u16.tif", np.zeros((4, 4, 3), np.uint16))
    tifffile.imwrite(tmp_path / "f32.tif", np.zeros((4, 4, 3), np.float32))
    assert tiff_bits(tmp_path / "u16.tif") == 16
    assert float_tiff_reason(tmp_path / "u16.tif") is None
    assert "32-bit floating-point TIFF is not supported" in float_tiff_reason(tmp_path / "f32.tif")
    (tmp_path / "not.tif").write_bytes(b"plain text")
    assert float_tiff_reason(tmp_path / "not.tif") is None
