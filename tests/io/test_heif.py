"""HEIC/HEIF photos: read upright with their EXIF, deblurred by the CLI into JPEG, and a
one-line error naming pillow-heif where it is missing."""

import sys

import numpy as np
import pytest
from PIL import Image

from deblurgan.checkpoint import save_generator
from deblurgan.cli import main
from deblurgan.io.formats import IMAGE_SUFFIXES, WRITABLE_IMAGE_SUFFIXES, output_suffix
from deblurgan.io.heif import is_heif
from deblurgan.io.images import ImageReadError, ImageWriteError, read_image, write_image

pillow_heif = pytest.importorskip("pillow_heif")

ORIENTATION, MAKE = 0x0112, 0x010F


def make_heic(path, orientation=6, size=(48, 32)):
    """A HEIC photo written by pillow-heif: a horizontal ramp (``size`` is width, height),
    stored with an EXIF orientation and a camera name. Returns the stored pixels."""
    width, height = size
    ramp = np.linspace(0, 255, width).astype(np.uint8)
    pixels = np.stack([np.tile(ramp, (height, 1))] * 3, -1)
    exif = Image.Exif()
    exif[ORIENTATION], exif[MAKE] = orientation, "Apple"
    pillow_heif.from_pillow(Image.fromarray(pixels)).save(path, quality=95, exif=exif.tobytes())
    return pixels


def test_heic_is_read_upright_with_its_exif(tmp_path):
    path = tmp_path / "IMG_0001.HEIC"
    make_heic(path, orientation=6)  # "rotate 90 clockwise to view", as a phone held upright
    image = read_image(path)
    assert image.rgb.shape == (48, 32, 3)  # turned: 32 wide, 48 tall
    ramp = image.rgb[:, 16, 0]  # the stored left-to-right ramp now runs top to bottom
    assert ramp[0] < 0.1 and ramp[-1] > 0.9 and np.all(np.diff(ramp) > -0.05)
    assert image.bit_depth == 8 and image.exif is not None
    write_image(tmp_path / "out.jpg", image)
    written = Image.open(tmp_path / "out.jpg")
    assert written.size == (32, 48)
    assert written.getexif()[MAKE] == "Apple" and written.getexif().get(ORIENTATION, 1) == 1


def test_heic_is_read_but_written_as_jpeg():
    assert {".heic", ".heif"} <= IMAGE_SUFFIXES and not {".heic", ".heif"} & WRITABLE_IMAGE_SUFFIXES
    assert output_suffix(".HEIC") == ".jpg" and output_suffix(".heif") == ".jpg"
    assert output_suffix(".png") == ".png" and is_heif("a.HeIf") and not is_heif("a.jpg")


def test_writing_heic_is_refused_with_what_to_use(tmp_path):
    image = read_image(_png(tmp_path))
    with pytest.raises(ImageWriteError, match="use .jpg"):
        write_image(tmp_path / "out.heic", image)
    assert not (tmp_path / "out.heic").exists()


def test_cli_deblurs_a_heic_photo_into_jpeg(tmp_path, identity_generator):
    weights = tmp_path / "identity.safetensors"
    save_generator(identity_generator, weights)
    make_heic(tmp_path / "IMG_0002.heic", orientation=6)
    out = tmp_path / "out"
    command = ["deblur", str(tmp_path / "IMG_0002.heic"), "-o", str(out)]  # no --ext: a JPEG
    fast = ["--weights", str(weights), "--method", "network", "--backend", "torch", "-q"]
    assert main([*command, *fast]) == 0
    result = read_image(out / "IMG_0002.jpg")
    expected = read_image(tmp_path / "IMG_0002.heic")
    assert result.rgb.shape == (48, 32, 3)  # upright, as the phone shows it
    assert np.abs(result.rgb - expected.rgb).mean() < 0.02  # the identity network, via JPEG


def test_missing_pillow_heif_is_one_line_naming_the_package(tmp_path, monkeypatch):
    import deblurgan.io.heif as heif

    make_heic(tmp_path / "a.heic")
    monkeypatch.setitem(heif._state, "registered", False)
    monkeypatch.setitem(sys.modules, "pillow_heif", None)  # import fails as if not installed
    with pytest.raises(ImageReadError) as raised:
        read_image(tmp_path / "a.heic")
    message = str(raised.value)
    assert "\n" not in message and "pillow-heif" in message and "a.heic" in message


def _png(tmp_path):
    Image.new("RGB", (8, 6), (10, 20, 30)).save(tmp_path / "a.png")
    return tmp_path / "a.png"
