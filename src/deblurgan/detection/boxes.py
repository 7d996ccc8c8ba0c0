"""Boxes: IoU, class-wise non-maximum suppression, detection, and matching against references."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from deblurgan.detection.darknet import Darknet, letterbox


@dataclasses.dataclass(frozen=True)
class Detections:
    """Boxes of one image in pixel coordinates.

    Attributes:
        boxes: (N, 4) float ``x1, y1, x2, y2``.
        scores: (N,) objectness x class probability.
        classes: (N,) class indices.
    """

    boxes: np.ndarray
    scores: np.ndarray
    classes: np.ndarray

    def __len__(self) -> int:
        return len(self.scores)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise intersection over union of ``x1, y1, x2, y2`` boxes.

    Shape:
        - a: :math:`(N, 4)`, b: :math:`(M, 4)`; output :math:`(N, M)`.
    """
    top_left = np.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(bottom_right - top_left, 0, None).prod(axis=2)
    area_a = (a[:, 2:] - a[:, :2]).prod(axis=1)
    area_b = (b[:, 2:] - b[:, :2]).prod(axis=1)
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-12)


def nms(
    boxes: np.ndarray, scores: np.ndarray, classes: np.ndarray, iou: float = 0.45
) -> np.ndarray:
    """Indices kept by greedy class-wise non-maximum suppression, best score first."""
    keep: list[int] = []
    for c in np.unique(classes):
        idx = np.flatnonzero(classes == c)
        idx = idx[np.argsort(-scores[idx], kind="stable")]
        while idx.size:
            keep.append(int(idx[0]))
            overlaps = box_iou(boxes[idx[:1]], boxes[idx[1:]])[0]
            idx = idx[1:][overlaps < iou]
    return np.array(sorted(keep, key=lambda i: -scores[i]), dtype=np.int64)


@torch.no_grad()
def detect(
    model: Darknet, rgb: np.ndarray, confidence: float = 0.25, nms_iou: float = 0.45
) -> Detections:
    """Run the detector on one RGB image (H, W, 3) in [0, 1]; boxes in its pixel coordinates."""
    image = torch.from_numpy(np.ascontiguousarray(rgb, dtype=np.float32)).permute(2, 0, 1)
    padded, scale, (top, left) = letterbox(image, model.input_size)
    raw = model(padded[None])[0].numpy()
    class_prob = raw[:, 5:] * raw[:, 4:5]
    classes = class_prob.argmax(axis=1)
    scores = class_prob[np.arange(len(raw)), classes]
    chosen = scores >= confidence
    cx, cy, w, h = raw[chosen, :4].T
    boxes = (
        np.stack([cx - w / 2 - left, cy - h / 2 - top, cx + w / 2 - left, cy + h / 2 - top], axis=1)
        / scale
    )
    height, width = rgb.shape[:2]
    boxes = np.clip(boxes, 0, [width, height, width, height])
    kept = nms(boxes, scores[chosen], classes[chosen], nms_iou)
    return Detections(boxes[kept], scores[chosen][kept], classes[chosen][kept])


def match(found: Detections, reference: Detections, iou: float = 0.5) -> tuple[int, int, int]:
    """True positives, false positives and false negatives of ``found`` against ``reference``.

    Per class, detections are taken best score first and matched to the
    unmatched reference box of highest IoU if that IoU is at least ``iou``.
    """
    tp = 0
    for c in np.union1d(found.classes, reference.classes):
        mine = np.flatnonzero(found.classes == c)
        mine = mine[np.argsort(-found.scores[mine], kind="stable")]
        theirs = reference.boxes[reference.classes == c]
        if not mine.size or not len(theirs):
            continue
        overlaps = box_iou(found.boxes[mine], theirs)
        free = np.ones(len(theirs), dtype=bool)
        for row in overlaps:
            candidates = np.where(free, row, -1.0)
            best = int(np.argmax(candidates))
            if candidates[best] >= iou:
                free[best] = False
                tp += 1
    return tp, len(found) - tp, len(reference) - tp


def precision_recall_f1(tp: int, fp: int, fn: int) -> dict[str, float]:
    """Precision, recall and F1 from counts (0 where undefined)."""
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp, "fn": fn}
