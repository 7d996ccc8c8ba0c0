import numpy as np
import pytest

from deblurgan.detection.boxes import Detections, box_iou, match, nms, precision_recall_f1


def _dets(boxes, scores, classes):
    return Detections(
        np.array(boxes, float).reshape(-1, 4), np.array(scores, float), np.array(classes)
    )


def test_iou_of_known_boxes():
    a = np.array([[0, 0, 10, 10]], float)
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]], float)
    np.testing.assert_allclose(box_iou(a, b), [[1.0, 50 / 150, 0.0]])


def test_nms_keeps_the_best_of_overlapping_boxes_per_class():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [0, 0, 10, 10], [50, 50, 60, 60]], float)
    scores = np.array([0.6, 0.9, 0.8, 0.5])
    classes = np.array([0, 0, 1, 0])  # box 2 overlaps box 1 but is another class
    assert nms(boxes, scores, classes, iou=0.45).tolist() == [1, 2, 3]
    assert nms(boxes, scores, classes, iou=0.99).tolist() == [1, 2, 0, 3]


def test_matching_by_hand():
    reference = _dets(
        [[0, 0, 10, 10], [20, 0, 30, 10], [40, 0, 50, 10]], [0.9, 0.9, 0.9], [0, 0, 1]
    )
    found = _dets(
        [
            [1, 0, 11, 10],  # matches reference 0 (IoU 0.82)
            [0, 0, 10, 10],  # duplicate of reference 0: false positive
            [20, 0, 30, 10],  # right place, wrong class: false positive
            [40, 0, 50, 10],
        ],  # matches reference 2
        [0.9, 0.5, 0.8, 0.7],
        [0, 0, 2, 1],
    )
    tp, fp, fn = match(found, reference)
    assert (tp, fp, fn) == (2, 2, 1)  # reference 1 (class 0 at x=20) is missed
    scores = precision_recall_f1(tp, fp, fn)
    assert scores["precision"] == 0.5 and scores["recall"] == pytest.approx(2 / 3)
    assert scores["f1"] == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))


def test_iou_threshold_and_empty_cases():
    reference = _dets([[0, 0, 10, 10]], [1.0], [0])
    shifted = _dets([[6, 0, 16, 10]], [1.0], [0])  # IoU 4/16 = 0.25
    assert match(shifted, reference, iou=0.5) == (0, 1, 1)
    assert match(shifted, reference, iou=0.2) == (1, 0, 0)
    empty = _dets([], [], [])
    assert match(empty, reference) == (0, 0, 1)
    assert precision_recall_f1(0, 0, 0) == {
        "precision": 0.0,
        "recall": 0.0,
        "f1": 0.0,
        "tp": 0,
        "fp": 0,
        "fn": 0,
    }
