from fractions import Fraction

import numpy as np
import pytest

from deblurgan.io.video import VideoInfo, read_frames, video_writer
from deblurgan.methods import build_method
from deblurgan.serve import work

from ..deconv.conftest import shapes_scene


def test_a_video_gets_one_decision_per_shot_and_an_unknown_frame_count(tmp_path, monkeypatch):
    pytest.importorskip("av")
    flat = np.full((64, 64, 3), 90, np.uint8)
    scene = (np.stack([shapes_scene(64, s) for s in (0, 1, 2)], -1) * 255).astype(np.uint8)
    source = tmp_path / "clip.mp4"
    with video_writer(source, VideoInfo(Fraction(24), 64, 64, None)) as write:
        for frame in [flat] * 3 + [scene] * 3:  # two shots: a flat wall, then a sharp scene
            write(frame)
    real_probe = work.probe_video

    def probe_without_count(path):  # as for an MKV, whose container keeps no frame count
        info = real_probe(path)
        return VideoInfo(info.fps, info.width, info.height, None)

    monkeypatch.setattr(work, "probe_video", probe_without_count)
    progress = work.Progress()
    outcome = work.deblur_upload(
        build_method("l0"),
        source,
        tmp_path / "out.mp4",
        progress,
        None,
        None,
        lambda: False,
        (tmp_path / "a.jpg", tmp_path / "b.jpg"),
    )
    assert progress.frames is None and progress.frames_done == 6
    assert len(list(read_frames(tmp_path / "out.mp4"))) == 6
    shots = outcome.decision.split(" / ")
    assert len(shots) == 2 and shots[0].startswith("frames 1-3") and "4-6" in shots[1]
