"""deblurgan detect-bench on pairs built from frames."""

import pytest

from deblurgan.cli import main


@pytest.mark.slow
def test_detect_bench_cli_on_built_frame_pairs(yolo, shared, tmp_path, identity_generator):
    from deblurgan.checkpoint import save_generator

    _, _, _, root = yolo
    frames = tmp_path / "frames"
    frames.mkdir()
    for path in sorted((shared / "data" / "gopro_raw240fps" / "GOPR0477_11_00").glob("*.png"))[:14]:
        (frames / path.name).symlink_to(path)
    save_generator(identity_generator, tmp_path / "id.safetensors")
    out = tmp_path / "det"
    assert (
        main(
            [
                "detect-bench",
                "--frames",
                str(frames),
                "--n-avg",
                "7",
                "--weights",
                str(tmp_path / "id.safetensors"),
                "--detector-cfg",
                str(root / "yolov3-tiny.cfg"),
                "--detector-weights",
                str(root / "yolov3-tiny.weights"),
                "--detector-names",
                str(root / "coco.names"),
                "-o",
                str(out),
                "-q",
                "--pictures",
                "1",
            ]
        )
        == 0
    )
    import json

    report = json.loads((out / "detection.json").read_text())
    assert report["settings"]["pairs"] == 2 and report["settings"]["match_iou"] == 0.5
    ran_with = {k: report["settings"][k] for k in ("backend", "precision", "device")}
    assert ran_with == {"backend": "openvino", "precision": "fp32", "device": "cpu"}
    assert report["summary"]["ours"] == report["summary"]["no deblur"]  # identity model
    assert len(list((out / "pictures").iterdir())) == 1
