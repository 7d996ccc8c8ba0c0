import json

import numpy as np
from PIL import Image

from deblurgan.detection.report import summary_table, write_detection_report


def test_report_holds_settings_summary_images_and_exact_pictures(tmp_path):
    summary = {"ours": {"precision": 1.0, "recall": 0.5, "f1": 2 / 3, "tp": 1, "fp": 0, "fn": 1}}
    picture = np.random.default_rng(0).integers(0, 256, (6, 9, 3), dtype=np.uint8)
    path = write_detection_report(
        tmp_path / "det", {"pairs": 1}, summary, [{"name": "a.png"}], [("a", picture)]
    )
    assert path == tmp_path / "det" / "detection.json"
    report = json.loads(path.read_text())
    assert report == {"settings": {"pairs": 1}, "summary": summary, "images": [{"name": "a.png"}]}
    assert np.array_equal(np.asarray(Image.open(tmp_path / "det" / "pictures" / "a.png")), picture)
    assert summary_table(summary).splitlines()[1].split() == [
        "ours", "1.000", "0.500", "0.667", "(1/0/1)"
    ]  # fmt: skip
