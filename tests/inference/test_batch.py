"""How a batch decides what each file is (the rest of the batch is tested through the CLI)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from deblurgan.inference.batch import media_kind
from deblurgan.io.images import ImageReadError


def _save(path, frames):
    images = [Image.fromarray(np.full((8, 8, 3), 60 * k, np.uint8)) for k in range(frames)]
    images[0].save(path, save_all=frames > 1, append_images=images[1:])
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
