from fractions import Fraction

import numpy as np
import pytest

from deblurgan.io.video import VideoError, VideoInfo, probe_video, read_frames, video_writer


def _frames(n, height, width):
    y, x = np.mgrid[0:height, 0:width]
    return [
        np.stack([x * 4, y * 4, x + y + 20 * i], -1).clip(0, 255).astype(np.uint8) for i in range(n)
    ]


@pytest.mark.parametrize(
    ("suffix", "size"), [(".mp4", (32, 48)), (".mp4", (33, 47)), (".avi", (24, 40))]
)
def test_video_round_trip_keeps_rate_size_and_frames(tmp_path, suffix, size):
    frames = _frames(6, *size)
    path = tmp_path / f"v{suffix}"
    with video_writer(path, VideoInfo(Fraction(30000, 1001), size[1], size[0], None)) as write:
        for frame in frames:
            write(frame)
    info = probe_video(path)
    assert (info.height, info.width) == size
    assert info.fps == Fraction(30000, 1001)
    decoded = list(read_frames(path))
    assert len(decoded) == len(frames)
    error = np.mean([np.abs(a.astype(float) - b).mean() for a, b in zip(decoded, frames)])
    assert error < 4  # lossy codec, but the same pictures


def test_failed_write_leaves_no_file(tmp_path):
    path = tmp_path / "v.mp4"
    with pytest.raises(VideoError, match="frame of shape"):
        with video_writer(path, VideoInfo(Fraction(25), 16, 16, None)) as write:
            write(np.zeros((8, 8, 3), np.uint8))
    assert not list(tmp_path.iterdir())


def test_unreadable_video_is_reported(tmp_path):
    (tmp_path / "fake.mp4").write_text("nope")
    with pytest.raises(VideoError, match="fake.mp4"):
        probe_video(tmp_path / "fake.mp4")
