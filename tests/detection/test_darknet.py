import numpy as np
import pytest
import torch

from deblurgan.detection.boxes import detect
from deblurgan.detection.darknet import DarknetError, letterbox, load_darknet, parse_cfg
from deblurgan.io.images import read_image


def test_real_cfg_and_weights_parse_to_the_expected_size(yolo):
    model, count, names, root = yolo
    file_floats = ((root / "yolov3-tiny.weights").stat().st_size - 20) // 4  # 20-byte header (v0.2)
    assert count == file_floats == 8_858_734
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 13 and len(names) >= 80
    assert [s["type"] for s in parse_cfg(root / "yolov3-tiny.cfg")].count("yolo") == 2


@pytest.mark.slow
def test_finds_people_in_sharp_gopro_frames_and_fewer_boxes_when_blurred(yolo, shared):
    model, _, names, _ = yolo
    pairs = shared / "data" / "gopro_pairs"
    sharp_total = blurred_total = 0
    labels = set()
    for path in sorted((pairs / "sharp").glob("GOPR0477*"))[:4]:
        sharp = detect(model, read_image(path).rgb)
        blurred = detect(model, read_image(pairs / "blur" / path.name).rgb)
        labels |= {names[c] for c in sharp.classes}
        sharp_total += len(sharp)
        blurred_total += len(blurred)
    assert labels & {"person", "car"}
    assert blurred_total < sharp_total


def test_letterbox_keeps_aspect_and_pads_gray():
    image = torch.zeros(3, 100, 200)
    padded, scale, (top, left) = letterbox(image, (416, 416))
    assert padded.shape == (3, 416, 416) and scale == pytest.approx(2.08)
    assert (top, left) == (104, 0)
    assert padded[0, 0, 0] == 0.5 and padded[0, 208, 208] == 0.0


def test_short_or_long_weights_files_are_refused(tmp_path):
    cfg = tmp_path / "tiny.cfg"
    cfg.write_text(
        "[net]\nwidth=32\nheight=32\nchannels=3\n\n[convolutional]\nfilters=2\nsize=1\n"
        "stride=1\npad=0\nactivation=linear\n"
    )
    header = np.array([0, 2, 0], np.int32).tobytes() + np.zeros(1, np.int64).tobytes()
    (tmp_path / "ok.weights").write_bytes(header + np.arange(8, dtype=np.float32).tobytes())
    model, count = load_darknet(cfg, tmp_path / "ok.weights")
    assert count == 8 and model.layers[0].conv.bias.tolist() == [0.0, 1.0]
    (tmp_path / "short.weights").write_bytes(header + np.zeros(5, np.float32).tobytes())
    with pytest.raises(DarknetError, match="ends after"):
        load_darknet(cfg, tmp_path / "short.weights")
    (tmp_path / "long.weights").write_bytes(header + np.zeros(9, np.float32).tobytes())
    with pytest.raises(DarknetError, match="left over"):
        load_darknet(cfg, tmp_path / "long.weights")
    (tmp_path / "bad.cfg").write_text("[convolutional]\nfilters=2\n")
    with pytest.raises(DarknetError, match=r"\[net\]"):
        parse_cfg(tmp_path / "bad.cfg")
