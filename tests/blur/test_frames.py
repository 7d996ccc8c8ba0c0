import numpy as np
import pytest
from PIL import Image

from deblurgan.blur.frames import average_frames, frame_windows


def test_identical_frames_average_to_the_frame_bit_for_bit():
    frame = np.random.default_rng(0).integers(0, 256, (9, 11, 3), dtype=np.uint8)
    assert np.array_equal(average_frames([frame] * 7), frame)
    frame16 = np.random.default_rng(1).integers(0, 65536, (4, 4), dtype=np.uint16)
    assert np.array_equal(average_frames([frame16] * 3), frame16)


def test_integer_frames_average_as_their_values_in_0_1_do_then_round():
    rng = np.random.default_rng(2)
    for dtype, top in ((np.uint8, 255), (np.uint16, 65535)):
        frames = [rng.integers(0, top + 1, (6, 7, 3)).astype(dtype) for _ in range(5)]
        exact = average_frames([f.astype(np.float64) / top for f in frames])
        expected = np.clip(np.rint(exact * top), 0, top).astype(dtype)
        assert np.array_equal(average_frames(frames), expected)


def test_average_is_taken_in_linear_light():
    black, white = np.zeros((1, 1)), np.ones((1, 1))
    assert average_frames([black, white])[0, 0] == pytest.approx(0.5 ** (1 / 2.2))
    assert average_frames([black, white], gamma=1.0)[0, 0] == pytest.approx(0.5)


def test_mismatched_frames_are_refused():
    with pytest.raises(ValueError, match="same shape"):
        average_frames([np.zeros((2, 2)), np.zeros((3, 2))])
    with pytest.raises(ValueError, match="at least one"):
        average_frames([])


def test_windows_are_consecutive_non_overlapping_and_within_range():
    windows = frame_windows(120, (7, 13), np.random.default_rng(0), gap=2)
    assert all(7 <= n <= 13 for _, n in windows)
    ends = [s + n for s, n in windows]
    assert all(end + 2 == start for end, (start, _) in zip(ends, windows[1:]))
    assert ends[-1] <= 120
    with pytest.raises(ValueError, match="n_avg"):
        frame_windows(10, (5, 3), np.random.default_rng(0))


def _psnr(a, b):
    return 10 * np.log10(255.0**2 / np.mean((a.astype(float) - b.astype(float)) ** 2))


def test_real_gopro_frames_reproduce_the_shared_pairs_statistics(shared):
    """Same recipe (8-10 frames, gamma 2.2): blurred-vs-sharp PSNR like the shared pairs."""
    pairs = shared / "data" / "gopro_pairs"
    reference = [
        _psnr(np.asarray(Image.open(p)), np.asarray(Image.open(pairs / "sharp" / p.name)))
        for p in sorted((pairs / "blur").glob("GOPR0477*"))
    ]
    frames_dir = shared / "data" / "gopro_raw240fps" / "GOPR0477_11_00"
    paths = sorted(frames_dir.glob("*.png"))
    ours = []
    for start, length in frame_windows(len(paths), (8, 10), np.random.default_rng(0))[::3]:
        window = [np.asarray(Image.open(p))[::2, ::2] for p in paths[start : start + length]]
        ours.append(_psnr(average_frames(window), window[length // 2]))
    assert min(reference) - 2 < np.median(ours) < max(reference) + 2
    assert all(20 < value < 40 for value in ours)
