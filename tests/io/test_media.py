"""What kind of media a file is, and frame-wise processing of animations and videos."""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from deblurgan.io import formats
from deblurgan.io.animation import read_animation
from deblurgan.io.images import ImageReadError
from deblurgan.io.media import (
    MEDIA_SUFFIXES,
    deblur_animation_file,
    deblur_video_file,
    is_image,
    is_media,
    is_video,
    media_kind,
)
from deblurgan.io.video import VideoInfo, probe_video, read_frames, video_writer


def _save(path, frames):
    images = [Image.fromarray(np.full((8, 8, 3), 60 * k, np.uint8)) for k in range(frames)]
    images[0].save(path, save_all=frames > 1, append_images=images[1:], duration=40, loop=0)
    return path


@pytest.mark.parametrize("suffix", [".gif", ".png", ".webp"])
def test_a_file_with_several_frames_is_an_animation_and_one_frame_an_image(tmp_path, suffix):
    assert media_kind(_save(tmp_path / f"moving{suffix}", frames=3)) == "animation"
    assert media_kind(_save(tmp_path / f"still{suffix}", frames=1)) == "image"


def test_videos_are_known_by_suffix_without_opening_them(tmp_path):
    assert media_kind(tmp_path / "never-written.MOV") == "video"


def test_an_animation_capable_file_that_is_not_an_image_is_a_read_error(tmp_path):
    (tmp_path / "notes.gif").write_text("not a gif")
    with pytest.raises(ImageReadError, match="notes.gif"):
        media_kind(tmp_path / "notes.gif")


def test_suffixes_are_matched_in_any_case_and_media_are_images_or_videos():
    assert is_image(Path("a.JPEG")) and not is_image(Path("a.mp4"))
    assert is_video(Path("a.WebM")) and not is_video(Path("a.webp"))
    assert not is_media(Path("notes.txt")) and not is_media(Path("README"))
    assert MEDIA_SUFFIXES == formats.IMAGE_SUFFIXES | formats.VIDEO_SUFFIXES
    assert formats.ANIMATION_SUFFIXES < formats.IMAGE_SUFFIXES
    assert not formats.IMAGE_SUFFIXES & formats.VIDEO_SUFFIXES


def test_animation_frames_go_through_the_function_with_durations_and_loop_kept(tmp_path):
    source = _save(tmp_path / "a.gif", frames=3)
    deblur_animation_file(lambda rgb: 1.0 - rgb, source, tmp_path / "b.gif")
    before, after = read_animation(source), read_animation(tmp_path / "b.gif")
    assert after.durations == before.durations and after.loop == before.loop
    for a, b in zip(before.frames, after.frames):
        np.testing.assert_allclose(b.rgb, 1.0 - a.rgb, atol=1 / 255)


def test_video_frames_go_through_the_function_in_stacks(tmp_path):
    frames = [np.full((16, 16, 3), 40 * k, np.uint8) for k in range(5)]
    with video_writer(tmp_path / "clip.mkv", VideoInfo(Fraction(24), 16, 16, None)) as write:
        for frame in frames:
            write(frame)
    calls = []

    def halve(rgb):
        calls.append(rgb.shape)
        return rgb * 0.5

    deblur_video_file(halve, tmp_path / "clip.mkv", tmp_path / "half.mkv", False, batch=2)
    assert calls == [(2, 16, 16, 3), (2, 16, 16, 3), (1, 16, 16, 3)]
    originals, halves = (
        list(read_frames(tmp_path / "clip.mkv")),
        list(read_frames(tmp_path / "half.mkv")),
    )
    assert len(halves) == 5 and probe_video(tmp_path / "half.mkv").fps == 24
    for original, half in zip(originals, halves):
        assert np.abs(half.astype(float) - original / 2).mean() < 3  # lossy codec


def test_media_decisions_do_not_load_torch():
    code = (
        "import deblurgan.io.media, deblurgan.inference.batch, sys; print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
