import functools
import zlib

import numpy as np
import pytest
from PIL import Image

from deblurgan.blur.apply import blur_image
from deblurgan.data.eval_sets import find_eval_items
from deblurgan.evaluation.evaluate import evaluate
from deblurgan.evaluation.scoring import best_shift, luma, score
from deblurgan.inference.deblurrer import Deblurrer
from deblurgan.metrics import psnr


def _img(path, pixels=None, size=(40, 48)):
    rng = np.random.default_rng(zlib.crc32(str(path).encode()))
    pixels = rng.integers(0, 256, (*size, 3), dtype=np.uint8) if pixels is None else pixels
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
    return pixels


def test_layouts_are_recognised(tmp_path):
    for key in ("a", "b"):
        _img(tmp_path / "crops" / f"{key}_in.png")
        _img(tmp_path / "crops" / f"{key}_gt.png")
    _img(tmp_path / "crops" / "a_pred.png")
    items, layout = find_eval_items(tmp_path / "crops")
    assert layout == "crops" and [i.key for i in items] == ["a", "b"]
    assert items[0].other.name == "a_pred.png" and items[1].other is None

    _img(tmp_path / "levin" / "im1_kernel2_img.png", size=(20, 20))
    _img(tmp_path / "levin" / "gt" / "im1.png", size=(20, 20))
    items, layout = find_eval_items(tmp_path / "levin")
    assert (
        layout == "levin"
        and items[0].kernel.name == "kernel2.png"
        and items[0].key == "im1_kernel2"
    )

    _img(tmp_path / "gopro" / "S1" / "blur" / "x.png")
    _img(tmp_path / "gopro" / "S1" / "sharp" / "x.png")
    _img(tmp_path / "other" / "x.png")
    items, layout = find_eval_items(tmp_path / "gopro", pred=tmp_path / "other")
    assert layout == "gopro" and items[0].other == tmp_path / "other" / "x.png"

    (tmp_path / "list.txt").write_text("gopro/S1/blur/x.png gopro/S1/sharp/x.png\n")
    assert find_eval_items(tmp_path / "list.txt")[1] == "list"
    with pytest.raises(FileNotFoundError):
        find_eval_items(tmp_path / "nothing")


def test_identity_model_scores_exactly_the_inputs_psnr(tmp_path, identity_generator):
    rng = np.random.default_rng(0)
    for key in ("a", "b"):
        sharp = _img(tmp_path / f"{key}_gt.png")
        noisy = np.clip(sharp.astype(int) + rng.integers(-20, 21, sharp.shape), 0, 255).astype(
            np.uint8
        )
        _img(tmp_path / f"{key}_in.png", noisy)
    items, _ = find_eval_items(tmp_path)
    results = evaluate(items, Deblurrer(identity_generator), progress=False)
    for result in results:
        assert result.scores["ours"] == result.scores["blurred"]
        assert result.seconds is not None and result.seconds >= 0


def _note(seen: list, rgb: np.ndarray) -> np.ndarray:
    seen.append(rgb)
    return rgb


def test_the_warm_up_run_is_one_extra_call_on_the_first_image_and_can_be_left_out(tmp_path):
    for key in ("a", "b"):
        _img(tmp_path / f"{key}_gt.png")
        _img(tmp_path / f"{key}_in.png")
    items, _ = find_eval_items(tmp_path)
    for warm_up, calls in ((True, 3), (False, 2)):
        seen = []
        identity = functools.partial(_note, seen)
        results = evaluate(items, identity, warm_up=warm_up, progress=False)
        assert len(seen) == calls and np.array_equal(seen[0], seen[-len(items)])
        assert [r.scores["ours"] for r in results] == [r.scores["blurred"] for r in results]


def test_luma_and_alignment_facts():
    rng = np.random.default_rng(0)
    assert luma(np.ones((1, 1, 3))).item() == 235 and luma(np.zeros((1, 1, 3))).item() == 16
    sharp = rng.random((50, 60, 3)).astype(np.float32)
    shifted = np.roll(sharp, (2, -3), axis=(0, 1))
    assert best_shift(shifted, sharp, 5, 5) == (2, -3)
    aligned = score(shifted, sharp, align=5)
    assert aligned["psnr"] == float("inf") and (aligned["shift_y"], aligned["shift_x"]) == (2, -3)
    assert score(shifted, sharp)["psnr"] < 15


def _best_shift_by_trying_each(a, b, radius, border):
    h, w = b.shape[:2]
    target = b[border : h - border, border : w - border]
    shifts = [(dy, dx) for dy in range(-radius, radius + 1) for dx in range(-radius, radius + 1)]
    crops = {
        (dy, dx): a[border + dy : h - border + dy, border + dx : w - border + dx]
        for dy, dx in shifts
    }
    return max(shifts, key=lambda s: psnr(crops[s], target))


def test_the_fast_shift_search_finds_the_shift_trying_each_one_finds():
    rng = np.random.default_rng(1)
    sharp = rng.random((40, 52, 3)).astype(np.float32)
    blurred = blur_image(sharp, np.full((5, 5), 1 / 25, np.float32))
    cases = [
        (np.roll(blurred, (1, 2), (0, 1)) + rng.normal(0, 0.05, blurred.shape), sharp, 4, 6),
        (blurred[..., 0], sharp[..., 0], 3, 3),  # gray
        ((blurred * 255).astype(np.uint8), sharp, 5, 5),  # 8-bit against float
        (np.full((30, 30, 3), 0.5), np.full((30, 30, 3), 0.5), 2, 2),  # all tie: the first
        (np.round(sharp * 4) / 4, np.round(np.roll(sharp, 3, 1) * 4) / 4, 3, 4),  # coarse
    ]
    for a, b, radius, border in cases:
        expected = _best_shift_by_trying_each(a, b, radius, border)
        assert best_shift(a, b, radius, border) == expected
    assert best_shift(cases[3][0], cases[3][1], 2, 2) == (-2, -2)
    with pytest.raises(ValueError, match="border"):
        best_shift(sharp, sharp, 4, 3)


def test_levin_nonblind_references_beat_the_blurred_input(shared, tmp_path):
    items, layout = find_eval_items(shared / "data" / "levin2009")
    subset = [i for i in items if i.key in ("im1_kernel2", "im2_kernel5")]
    results = evaluate(subset, nonblind=True, align=8, progress=False)
    for result in results:  # knowing the kernel must help (measured: +1.3 and +6.5 dB)
        best = max(result.scores[f"nonblind_{m}"]["psnr"] for m in ("wiener", "richardson_lucy"))
        assert best > result.scores["blurred"]["psnr"] + 1
        hyper = result.scores["nonblind_hyper_laplacian"]["psnr"]
        assert hyper > best  # the sparse prior beats both classical references


def test_a_crop_that_leaves_less_than_the_ssim_window_names_its_cause():
    from deblurgan.evaluation.scoring import check_crop, score

    image = np.zeros((40, 48, 3), np.float32)
    with pytest.raises(ValueError, match=r"^--border 15 leaves 18x10 pixels of a 48x40 image"):
        score(image, image, border=15)
    with pytest.raises(ValueError, match=r"^--align 16 leaves"):
        check_crop(40, 48, border=0, align=16)
    with pytest.raises(ValueError, match=r"^a 15 px crop \(--align-subpixel\) leaves"):
        check_crop(40, 40, border=2, subpixel=True)
    check_crop(40, 48, border=14)  # 20x12 pixels left: enough
