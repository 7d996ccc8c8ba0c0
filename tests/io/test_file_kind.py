"""Pipes and devices are named for what they are and never opened, by every reader."""

import os
import threading

import pytest

from deblurgan.io.animation import frame_count, read_animation
from deblurgan.io.images import ImageReadError, check_image_header, read_image
from deblurgan.io.video import VideoError, probe_video, read_frames


@pytest.fixture
def fifo(tmp_path):
    """A named pipe; a reader stuck on it gets an end of file after 60 s instead of hanging."""
    path = tmp_path / "pipe.png"
    os.mkfifo(path)

    def unblock() -> None:
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:  # nobody is reading
            pass

    timer = threading.Timer(60, unblock)
    timer.start()
    yield path
    timer.cancel()


def test_special_files_are_known_from_their_metadata(tmp_path, fifo):
    from deblurgan.io.file_kind import special_file_kind

    (tmp_path / "zero.jpg").symlink_to("/dev/zero")
    (tmp_path / "plain.png").write_bytes(b"x")
    assert special_file_kind(fifo) == "a named pipe (FIFO)"
    assert special_file_kind(tmp_path / "zero.jpg") == "a character device"
    assert special_file_kind(tmp_path / "plain.png") is None
    assert special_file_kind(tmp_path) is None and special_file_kind(tmp_path / "gone") is None


@pytest.mark.parametrize(
    "read", [read_image, check_image_header, frame_count, read_animation], ids=lambda f: f.__name__
)
def test_image_readers_name_a_pipe_and_a_device_instead_of_reading_them(tmp_path, fifo, read):
    with pytest.raises(ImageReadError, match=r"pipe.png: a named pipe \(FIFO\), not a regular"):
        read(fifo)
    device = tmp_path / "zero.png"
    device.symlink_to("/dev/zero")
    with pytest.raises(ImageReadError, match=r"zero.png: a character device \(link to /dev/zero\)"):
        read(device)


def test_video_readers_name_a_pipe_instead_of_reading_it(tmp_path):
    path = tmp_path / "pipe.mp4"
    os.mkfifo(path)
    with pytest.raises(VideoError, match=r"pipe.mp4: a named pipe \(FIFO\)"):
        probe_video(path)
    with pytest.raises(VideoError, match=r"pipe.mp4: a named pipe \(FIFO\)"):
        next(read_frames(path))
