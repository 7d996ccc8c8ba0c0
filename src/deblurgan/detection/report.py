"""Writing and printing the detection benchmark's report (``deblurgan detect-bench``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from deblurgan.io.atomic import atomic_write_bytes
from deblurgan.io.images import ImageData, write_image


def write_detection_report(
    folder: Path,
    settings: dict[str, Any],
    summary: dict[str, dict[str, float]],
    per_image: list[dict],
    pictures: list[tuple[str, np.ndarray]],
) -> Path:
    """Write ``folder/detection.json`` and ``folder/pictures/KEY.png``.

    Args:
        folder: The report folder (created if missing).
        settings: What the benchmark ran with (data, detector, thresholds, method).
        summary: Per method its precision, recall, F1 and counts.
        per_image: Per image its counts.
        pictures: ``(key, picture)``: uint8 RGB pictures with boxes drawn.

    Returns:
        The path of the JSON report.

    Shape:
        - picture: :math:`(H, W, 3)`, uint8.
    """
    report = {"settings": settings, "summary": summary, "images": per_image}
    path = folder / "detection.json"
    atomic_write_bytes(path, json.dumps(report, indent=2).encode())
    for key, picture in pictures:
        write_image(
            folder / "pictures" / f"{key}.png", ImageData(rgb=picture.astype(np.float32) / 255)
        )
    return path


def summary_table(summary: dict[str, dict[str, float]]) -> str:
    """The summary as a plain-text table, one line per method.

    Examples:
        >>> m = {"precision": 0.5, "recall": 1.0, "f1": 2 / 3, "tp": 2, "fp": 2, "fn": 0}
        >>> print(summary_table({"ours": m}))
        method           precision  recall    F1   (TP/FP/FN)
        ours                 0.500   1.000  0.667   (2/2/0)
    """
    lines = [f"{'method':16} precision  recall    F1   (TP/FP/FN)"]
    for name, m in summary.items():
        lines.append(
            f"{name:16} {m['precision']:9.3f} {m['recall']:7.3f} {m['f1']:6.3f}   "
            f"({m['tp']}/{m['fp']}/{m['fn']})"
        )
    return "\n".join(lines)
