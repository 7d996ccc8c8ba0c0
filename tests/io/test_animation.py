"""Animated GIF, WebP and PNG: frames, durations and loop count survive a round trip."""

import numpy as np
import pytest
from PIL import Image

from deblurgan.io.animation import Animation, frame_count, read_animation, write_animation
from deblurgan.io.images import ImageData, ImageReadError, ImageWriteError, read_image


def _animated_gif(path, frames=4):
    images = [Image.fromarray(np.full((12, 16, 3), 40 * k + 20, np.uint8)) for k in range(frames)]
    durations = [50, 80, 120, 200][:frames]
    images[0].save(path, save_all=True, append_images=images[1:], duration=durations, loop=0)
    return durations


@pytest.mark.parametrize("suffix", [".gif", ".webp", ".png"])
def test_animation_round_trip_keeps_frames_durations_and_loop(tmp_path, suffix):
    durations = _animated_gif(tmp_path / "a.gif")
    assert frame_count(tmp_path / "a.gif") == 4
    with pytest.raises(ImageReadError, match="animated image with 4 frames"):
        read_image(tmp_path / "a.gif")
    animation = read_animation(tmp_path / "a.gif")
    assert animation.durations == tuple(durations) and animation.loop == 0
    assert [round(float(f.rgb.mean()) * 255) for f in animation.frames] == [20, 60, 100, 140]
    write_animation(tmp_path / f"b{suffix}", animation)
    again = read_animation(tmp_path / f"b{suffix}")
    assert again.durations == animation.durations and again.loop == 0
    for before, after in zip(animation.frames, again.frames, strict=True):
        assert np.abs(before.rgb - after.rgb).max() < 2 / 255


def test_animation_cannot_be_written_as_jpeg(tmp_path):
    frame = ImageData(rgb=np.zeros((2, 2, 3), np.float32))
    with pytest.raises(ImageWriteError, match="cannot store 2 frames"):
        write_animation(tmp_path / "a.jpg", Animation((frame, frame), (100, 100)))
    assert not list(tmp_path.iterdir())
