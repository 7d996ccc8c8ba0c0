"""What ``deblurgan deblur`` writes: kernel files (unique, never replaced without --overwrite,
never inputs), outputs created exclusively when runs race, decisions in the summary, camera
JPEGs with an embedded preview (MPO) and multi-page TIFFs."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image

from deblurgan.cli import main
from deblurgan.restoration import Restoration

KERNEL = np.outer([0.0, 1.0, 0.0], [0.25, 0.5, 0.25])


class FakeBlind:
    """A method that estimates a kernel and says what it decided, in no time."""

    name = "fake"

    def __init__(self, on_restore=None):
        self.on_restore = on_restore
        self.seen: list[tuple[int, ...]] = []

    def restore(self, rgb):
        self.seen.append(rgb.shape)
        if self.on_restore is not None:
            self.on_restore()
        return Restoration(1.0 - rgb, kernel=KERNEL, decision="uniform shake, kernel 3 px")

    def __call__(self, rgb):
        return 1.0 - rgb

    def settings(self):
        return {"method": "fake"}


@pytest.fixture
def fake(monkeypatch):
    method = FakeBlind()
    monkeypatch.setattr("deblurgan.cli.deblur.method_from_args", lambda *a, **k: method)
    return method


def _photo(path, size=(12, 17), seed=0):
    pixels = np.random.default_rng(seed).integers(0, 256, (*size, 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
    return pixels


def _deblur(*argv):
    return main(["deblur", *map(str, argv), "--method", "l0", "-q"])


def test_two_inputs_with_one_stem_get_a_kernel_file_each(tmp_path, fake, capsys):
    _photo(tmp_path / "in" / "a.png", seed=1), _photo(tmp_path / "in" / "a.tif", seed=2)
    _photo(tmp_path / "in" / "b.png", seed=3)
    out = tmp_path / "out"
    assert _deblur(tmp_path / "in", "-o", out, "--save-kernel") == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "a.png",
        "a.png.kernel.png",
        "a.tif",
        "a.tif.kernel.png",
        "b.kernel.png",
        "b.png",
    ]
    picture = np.asarray(Image.open(out / "b.kernel.png").convert("L"), np.float64)
    np.testing.assert_allclose(picture, np.round(KERNEL / KERNEL.max() * 255))


def test_an_existing_kernel_file_is_kept_without_overwrite(tmp_path, fake, capsys):
    _photo(tmp_path / "in" / "a.png")
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.kernel.png").write_bytes(b"mine")
    argv = ["deblur", str(tmp_path / "in"), "-o", str(out), "--method", "l0", "--save-kernel"]
    assert main(argv) == 0
    assert (out / "a.kernel.png").read_bytes() == b"mine" and (out / "a.png").is_file()
    assert "a.kernel.png exists (--overwrite replaces it)" in capsys.readouterr().out
    (out / "a.png").unlink()
    assert _deblur(tmp_path / "in", "-o", out, "--save-kernel", "--overwrite") == 0
    assert Image.open(out / "a.kernel.png").size == KERNEL.shape[::-1]
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temp file left


@pytest.mark.parametrize("ext", [[], ["--ext", ".tif"]])
def test_kernel_files_of_an_earlier_run_are_never_inputs(tmp_path, fake, ext):
    shots = tmp_path / "shots"
    _photo(shots / "photo.png")
    for _ in range(2):
        assert _deblur(shots, "-o", shots, "--suffix", "_sharp", "--save-kernel", *ext) == 0
    out_ext = ext[1] if ext else ".png"
    assert sorted(p.name for p in shots.iterdir()) == sorted(
        ["photo.png", f"photo_sharp{out_ext}", "photo_sharp.kernel.png"]
    )
    assert len(fake.seen) == 1  # the second run deblurred nothing: its outputs exist
    assert _deblur(shots, "-o", shots, "--suffix", "_sharp", *ext) == 0  # no --save-kernel
    assert len(fake.seen) == 1 and not (shots / "photo_sharp.kernel_sharp.png").exists()


def test_an_output_created_by_another_run_meanwhile_is_kept_and_skipped(
    tmp_path, monkeypatch, capsys
):
    _photo(tmp_path / "in" / "a.png")
    out = tmp_path / "out"
    theirs = out / "a.png"
    method = FakeBlind(on_restore=lambda: theirs.write_bytes(b"the other run's"))
    monkeypatch.setattr("deblurgan.cli.deblur.method_from_args", lambda *a, **k: method)
    assert main(["deblur", str(tmp_path / "in"), "-o", str(out)]) == 0
    assert theirs.read_bytes() == b"the other run's"
    assert "0 written, 1 skipped, 0 failed" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["a.png"]  # no temp file left
    assert main(["deblur", str(tmp_path / "in"), "-o", str(out), "--overwrite"]) == 0
    assert Image.open(theirs).size == (17, 12)  # --overwrite replaces it


def test_each_decision_is_in_the_run_summary(tmp_path, fake, capsys):
    _photo(tmp_path / "in" / "a.png"), _photo(tmp_path / "in" / "b.png")
    assert main(["deblur", str(tmp_path / "in"), "-o", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    for name in ("a.png", "b.png"):
        assert f"decided {tmp_path / 'in' / name}: uniform shake, kernel 3 px" in printed


def test_a_camera_jpeg_with_an_embedded_preview_is_deblurred_as_a_plain_jpeg(tmp_path, fake):
    main_image = _photo(tmp_path / "main.png", size=(40, 48))
    preview = Image.fromarray(main_image[::4, ::4])
    camera = tmp_path / "in" / "IMG_0001.JPG"
    camera.parent.mkdir()
    Image.fromarray(main_image).save(
        camera, format="MPO", save_all=True, append_images=[preview], quality=95
    )
    assert Image.open(camera).format == "MPO"
    assert _deblur(camera, "-o", tmp_path / "out") == 0
    written = Image.open(tmp_path / "out" / "IMG_0001.JPG")
    assert written.format == "JPEG" and getattr(written, "n_frames", 1) == 1
    assert written.size == (48, 40) and fake.seen == [(40, 48, 3)]  # the main image
    inverted = 255 - np.asarray(Image.open(camera).convert("RGB"), np.float64)
    assert np.abs(np.asarray(written, np.float64) - inverted).mean() < 4


@pytest.mark.parametrize("depth", [np.uint8, np.uint16])
def test_a_multi_page_tiff_gives_its_first_page_with_a_note(tmp_path, fake, capsys, depth):
    first = np.random.default_rng(0).integers(0, 200, (20, 24, 3)).astype(depth)
    path = tmp_path / "in" / "scan.tif"
    path.parent.mkdir()
    tifffile.imwrite(path, first)
    tifffile.imwrite(path, np.zeros((20, 24, 3), depth), append=True)
    assert main(["deblur", str(path), "-o", str(tmp_path / "out"), "--method", "l0"]) == 0
    assert "a TIFF of 2 pages: only the first page is read" in capsys.readouterr().out
    written = tifffile.imread(tmp_path / "out" / "scan.tif")
    scale = np.iinfo(depth).max
    np.testing.assert_allclose(written, scale - first.astype(np.float64), atol=1)


class Unchanged:
    """A method that finds no blur: every photo comes back as it was given."""

    name = "unchanged"

    def restore(self, rgb):
        return Restoration(rgb.copy(), decision="no blur found; returned unchanged")

    def __call__(self, rgb):
        return rgb.copy()

    def settings(self):
        return {"method": "unchanged"}


def test_a_photo_returned_unchanged_is_its_input_file_not_a_new_encoding(tmp_path, monkeypatch):
    monkeypatch.setattr("deblurgan.cli.deblur.method_from_args", lambda *a, **k: Unchanged())
    y, x = np.mgrid[0:64, 0:64]
    pixels = np.stack([x * 4, y * 4, (x + y) * 2], axis=-1).astype(np.uint8)
    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(pixels).save(src / "plain.jpg", quality=90)
    exif = Image.Exif()
    exif[0x0112] = 6  # stored on its side: read upright, so written again, upright
    Image.fromarray(pixels[:, :48]).save(src / "turned.jpg", quality=90, exif=exif)
    out = tmp_path / "out"
    assert main(["deblur", str(src), "-o", str(out), "-q"]) == 0
    assert (out / "plain.jpg").read_bytes() == (src / "plain.jpg").read_bytes()
    turned = Image.open(out / "turned.jpg")
    assert turned.size == (64, 48) and turned.getexif().get(0x0112, 1) == 1
    assert main(["deblur", str(src / "plain.jpg"), "-o", str(out), "-q", "--ext", ".png"]) == 0
    decoded = np.asarray(Image.open(src / "plain.jpg"))
    assert np.array_equal(np.asarray(Image.open(out / "plain.png")), decoded)  # encoded as PNG
    assert sorted(p.name for p in out.iterdir()) == ["plain.jpg", "plain.png", "turned.jpg"]
