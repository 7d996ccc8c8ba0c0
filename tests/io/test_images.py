import os

import numpy as np
import png
import pytest
import tifffile
from PIL import Image, ImageOps

from deblurgan.io.images import (
    ImageData,
    ImageReadError,
    ImageWriteError,
    apply_exif_orientation,
    read_image,
    write_image,
)


def _u8(*shape):
    rng = np.random.default_rng(list(shape))
    return rng.integers(0, 256, shape, dtype=np.uint8)


def _u16(*shape):
    rng = np.random.default_rng([16, *shape])
    return rng.integers(0, 65536, shape, dtype=np.uint16)


def test_rgb_png_round_trip_is_lossless(tmp_path):
    pixels = _u8(9, 13, 3)
    Image.fromarray(pixels).save(tmp_path / "a.png")
    image = read_image(tmp_path / "a.png")
    assert image.rgb.dtype == np.float32 and image.rgb.shape == (9, 13, 3)
    assert not image.gray and image.alpha is None and image.bit_depth == 8
    write_image(tmp_path / "b.png", image)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "b.png")), pixels)


def test_gray_is_three_equal_channels_in_and_gray_out(tmp_path):
    pixels = _u8(7, 5)
    Image.fromarray(pixels).save(tmp_path / "g.png")
    image = read_image(tmp_path / "g.png")
    assert image.gray and image.rgb.shape == (7, 5, 3)
    assert np.array_equal(image.rgb[..., 0], image.rgb[..., 2])
    write_image(tmp_path / "out.png", image)
    out = Image.open(tmp_path / "out.png")
    assert out.mode == "L" and np.array_equal(np.asarray(out), pixels)


def test_rgba_alpha_passes_through_untouched(tmp_path):
    pixels = _u8(6, 8, 4)
    Image.fromarray(pixels).save(tmp_path / "a.png")
    image = read_image(tmp_path / "a.png")
    assert np.array_equal(image.alpha, pixels[..., 3])
    changed = image.with_rgb(1.0 - image.rgb)
    write_image(tmp_path / "o.png", changed)
    out = np.asarray(Image.open(tmp_path / "o.png"))
    assert np.array_equal(out[..., 3], pixels[..., 3])
    assert np.array_equal(out[..., :3], 255 - pixels[..., :3])


def test_gray_with_alpha(tmp_path):
    pixels = _u8(4, 4, 2)
    Image.fromarray(pixels, mode="LA").save(tmp_path / "la.png")
    image = read_image(tmp_path / "la.png")
    assert image.gray and np.array_equal(image.alpha, pixels[..., 1])
    write_image(tmp_path / "o.png", image)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "o.png")), pixels)


@pytest.mark.parametrize("planes", [1, 2, 3, 4])
def test_16_bit_png_keeps_its_depth(tmp_path, planes):
    pixels = _u16(5, 7, planes)
    writer = png.Writer(7, 5, bitdepth=16, greyscale=planes < 3, alpha=planes in (2, 4))
    with open(tmp_path / "a.png", "wb") as f:
        writer.write(f, pixels.reshape(5, 7 * planes))
    image = read_image(tmp_path / "a.png")
    assert image.bit_depth == 16
    assert np.array_equal(np.rint(image.rgb[..., 0] * 65535).astype(np.uint16), pixels[..., 0])
    write_image(tmp_path / "b.png", image)
    _, _, rows, info = png.Reader(filename=str(tmp_path / "b.png")).asDirect()
    assert info["bitdepth"] == 16
    assert np.array_equal(np.vstack(list(rows)).reshape(5, 7, planes), pixels)


def test_16_bit_tiff_keeps_its_depth(tmp_path):
    pixels = _u16(6, 4, 3)
    tifffile.imwrite(tmp_path / "a.tif", pixels)
    image = read_image(tmp_path / "a.tif")
    assert image.bit_depth == 16
    write_image(tmp_path / "b.tiff", image)
    assert np.array_equal(tifffile.imread(tmp_path / "b.tiff"), pixels)


def test_16_bit_to_jpeg_stores_8_bits(tmp_path):
    image = ImageData(rgb=_u16(4, 4, 3) / np.float32(65535), bit_depth=16)
    write_image(tmp_path / "a.jpg", image)
    assert Image.open(tmp_path / "a.jpg").mode == "RGB"


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_matches_pillow(tmp_path, orientation):
    pixels = _u8(5, 8, 3)
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(pixels).save(tmp_path / "e.png", exif=exif)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(tmp_path / "e.png")))
    got = np.rint(read_image(tmp_path / "e.png").rgb * 255).astype(np.uint8)
    assert np.array_equal(got, expected)


def test_exif_rotated_jpeg_is_returned_upright(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    Image.fromarray(_u8(10, 30, 3)).save(tmp_path / "r.jpg", exif=exif)
    assert read_image(tmp_path / "r.jpg").rgb.shape == (30, 10, 3)
    assert apply_exif_orientation(np.zeros((2, 3)), 6).shape == (3, 2)


def test_palette_images_become_rgb_or_rgba(tmp_path):
    Image.fromarray(_u8(6, 6, 3)).convert("P").save(tmp_path / "p.png")
    assert read_image(tmp_path / "p.png").alpha is None
    im = Image.fromarray(_u8(6, 6, 3)).convert("P")
    im.info["transparency"] = 0
    im.save(tmp_path / "pt.png", transparency=0)
    assert read_image(tmp_path / "pt.png").alpha is not None


def test_icc_profile_is_kept(tmp_path):
    profile = b"\x00" * 128 + b"fake-icc"
    Image.fromarray(_u8(4, 4, 3)).save(tmp_path / "a.png", icc_profile=profile)
    image = read_image(tmp_path / "a.png")
    assert image.icc_profile == profile
    write_image(tmp_path / "b.jpg", image)
    assert Image.open(tmp_path / "b.jpg").info.get("icc_profile") == profile


def test_bad_files_raise_errors_that_name_file_and_cause(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "text.jpg").write_text("hello, not an image")
    (tmp_path / "dir.png").mkdir()
    Image.fromarray(_u8(64, 64, 3)).save(tmp_path / "full.png")
    (tmp_path / "cut.png").write_bytes((tmp_path / "full.png").read_bytes()[:300])
    cases = {
        "empty.png": "empty file",
        "text.jpg": "not a readable image",
        "dir.png": "is a directory",
        "cut.png": "truncated",
        "missing.png": "no such file",
    }
    for name, cause in cases.items():
        with pytest.raises(ImageReadError, match=cause) as info:
            read_image(tmp_path / name)
        assert name in str(info.value)


@pytest.mark.parametrize(
    ("suffix", "cause"),
    [
        (".jpg", "cannot store the alpha channel"),
        (".bmp", "cannot store the alpha channel"),
        (".ppm", "cannot store the alpha channel"),
        (
            ".gif",
            "stores only fully transparent or opaque pixels, and this alpha has levels between",
        ),
    ],
)
def test_alpha_is_refused_where_the_format_cannot_keep_it(tmp_path, suffix, cause):
    alpha = np.array([[0, 255], [128, 255]], np.uint8)
    image = ImageData(rgb=np.zeros((2, 2, 3), np.float32), alpha=alpha)
    with pytest.raises(ImageWriteError, match=f"a{suffix}: {suffix} {cause}; use .png or .tif"):
        write_image(tmp_path / f"a{suffix}", image)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("suffix", [".gif", ".webp", ".tif", ".png"])
def test_alpha_is_kept_exactly_where_the_format_can(tmp_path, suffix):
    # GIF's transparency is one palette entry: an alpha of only 0 and 255 survives
    alpha = np.array([[0, 255, 255], [255, 0, 255]], np.uint8)
    if suffix != ".gif":
        alpha[0, 1] = 128
    rgb = np.array([[[1, 0, 0], [0, 1, 0], [0, 0, 1]], [[1, 1, 0], [0, 1, 1], [1, 1, 1]]])
    write_image(tmp_path / f"a{suffix}", ImageData(rgb=rgb.astype(np.float32), alpha=alpha))
    back = read_image(tmp_path / f"a{suffix}")
    assert back.alpha is not None and np.array_equal(back.alpha, alpha)
    if suffix != ".webp":  # lossy colour
        opaque = alpha == 255
        assert np.array_equal(back.rgb[opaque], rgb[opaque])


def test_unknown_output_suffix_is_refused(tmp_path):
    with pytest.raises(ImageWriteError, match="suffix"):
        write_image(tmp_path / "a.xyz", ImageData(rgb=np.zeros((2, 2, 3), np.float32)))


def test_with_rgb_checks_shape():
    with pytest.raises(ValueError, match="shape"):
        ImageData(rgb=np.zeros((2, 2, 3), np.float32)).with_rgb(np.zeros((3, 2, 3)))


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".webp"])
def test_exif_is_kept_with_orientation_reset(tmp_path, suffix):
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "PhotoCam"  # Make
    exif[0x0132] = "2026:11:24 10:00:00"  # DateTime
    Image.fromarray(_u8(10, 30, 3)).save(tmp_path / "in.jpg", exif=exif)
    image = read_image(tmp_path / "in.jpg")
    write_image(tmp_path / f"out{suffix}", image)
    written = Image.open(tmp_path / f"out{suffix}").getexif()
    assert written[0x010F] == "PhotoCam" and written[0x0132] == "2026:11:24 10:00:00"
    assert written[0x0112] == 1  # stored upright: a viewer must not turn it again
    assert read_image(tmp_path / f"out{suffix}").rgb.shape == (30, 10, 3)


def test_orientation_alone_is_not_kept(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 3
    Image.fromarray(_u8(4, 4, 3)).save(tmp_path / "r.jpg", exif=exif)
    assert read_image(tmp_path / "r.jpg").exif is None


def test_links_and_permissions_name_the_real_cause(tmp_path, monkeypatch):
    (tmp_path / "loop.png").symlink_to("loop.png")
    (tmp_path / "broken.png").symlink_to("gone.png")
    with pytest.raises(ImageReadError, match="loop.png: symbolic link loop"):
        read_image(tmp_path / "loop.png")
    with pytest.raises(ImageReadError, match="broken symbolic link .to gone.png"):
        read_image(tmp_path / "broken.png")
    Image.fromarray(_u8(4, 4, 3)).save(tmp_path / "locked.png")

    def denied(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(Image, "open", denied)
    with pytest.raises(ImageReadError, match="locked.png: permission denied") as info:
        read_image(tmp_path / "locked.png")
    assert "corrupt" not in str(info.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files regardless of permissions")
def test_unreadable_file_is_a_permission_error(tmp_path):
    Image.fromarray(_u8(4, 4, 3)).save(tmp_path / "locked.png")
    (tmp_path / "locked.png").chmod(0)
    with pytest.raises(ImageReadError, match="permission denied"):
        read_image(tmp_path / "locked.png")


def test_pixel_limit_is_checked_from_the_header(tmp_path):
    Image.new("1", (20_000, 10_000)).save(tmp_path / "huge.png")  # 200 MP, a few KB on disk
    with pytest.raises(ImageReadError, match="200.0 MP, above the limit of 179.0 MP.*--max-pix"):
        read_image(tmp_path / "huge.png")
    Image.fromarray(_u8(30, 40, 3)).save(tmp_path / "small.png")
    with pytest.raises(ImageReadError, match="1,200 pixels, above the limit of 1,000 pixels"):
        read_image(tmp_path / "small.png", max_pixels=1000)
    assert read_image(tmp_path / "small.png", max_pixels=1200).rgb.shape == (30, 40, 3)
    assert Image.MAX_IMAGE_PIXELS == 89_478_485  # Pillow's own limit is left as it was
