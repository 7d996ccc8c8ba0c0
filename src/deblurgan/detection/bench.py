"""The paper's detection benchmark (section 6.3): how much does deblurring help a detector?

Detections on the sharp image are the reference. The detector then runs on
the blurred image ("no deblur"), on our restoration and on any other method's
output; each is matched per class at IoU >= 0.5 to the reference, and
precision, recall and F1 are computed over all images.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw
from tqdm import tqdm

from deblurgan.data.eval_sets import EvalItem
from deblurgan.detection.boxes import Detections, detect, match, precision_recall_f1
from deblurgan.detection.darknet import Darknet
from deblurgan.io.images import read_image


def detection_benchmark(
    items: list[EvalItem],
    model: Darknet,
    deblur: Callable[[np.ndarray], np.ndarray] | None = None,
    *,
    other_name: str = "other",
    confidence: float = 0.25,
    match_iou: float = 0.5,
    nms_iou: float = 0.45,
    names: list[str] | None = None,
    pictures: int = 6,
    progress: bool = True,
) -> tuple[dict[str, dict[str, float]], list[dict], list[tuple[str, np.ndarray]]]:
    """Run the protocol over ``items``.

    Returns:
        Per method the precision/recall/F1 and counts; per image the counts; and
        up to ``pictures`` images with boxes drawn on blurred | restored | sharp.
    """
    totals: dict[str, list[int]] = {}
    per_image, drawn = [], []
    for item in tqdm(items, desc="detecting", unit="pair", disable=not progress):
        blurred, sharp = read_image(item.blurred).rgb, read_image(item.sharp).rgb
        inputs = {"no deblur": blurred}
        if deblur is not None:
            inputs["ours"] = deblur(blurred)
        if item.other is not None:
            inputs[other_name] = read_image(item.other).rgb
        reference = detect(model, sharp, confidence, nms_iou)
        record = {"key": item.key, "reference_boxes": len(reference)}
        found = {}
        for method, image in inputs.items():
            found[method] = detect(model, image, confidence, nms_iou)
            counts = match(found[method], reference, match_iou)
            totals.setdefault(method, [0, 0, 0])
            totals[method] = [t + c for t, c in zip(totals[method], counts)]
            record[method] = dict(zip(("tp", "fp", "fn"), counts))
        per_image.append(record)
        if len(drawn) < pictures:
            panels = [draw_boxes(image, found[m], names, m) for m, image in inputs.items()]
            panels.append(draw_boxes(sharp, reference, names, "sharp (reference)"))
            drawn.append((item.key, np.concatenate(panels, axis=1)))
    summary = {method: precision_recall_f1(*counts) for method, counts in totals.items()}
    return summary, per_image, drawn


def draw_boxes(
    rgb: np.ndarray, found: Detections, names: list[str] | None, title: str
) -> np.ndarray:
    """The image with labelled boxes and a title; uint8 RGB."""
    image = Image.fromarray(np.rint(np.clip(rgb, 0, 1) * 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for box, cls, score in zip(found.boxes, found.classes, found.scores):
        label = names[cls] if names and cls < len(names) else str(cls)
        draw.rectangle(box.tolist(), outline=(255, 60, 0), width=2)
        draw.text((box[0] + 2, box[1] + 1), f"{label} {score:.2f}", fill=(255, 255, 0))
    draw.rectangle([0, 0, 8 + 7 * len(title), 16], fill=(0, 0, 0))
    draw.text((4, 2), title, fill=(255, 255, 255))
    return np.asarray(image)
