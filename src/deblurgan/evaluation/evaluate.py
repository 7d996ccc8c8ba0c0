"""Running an evaluation: restore (or load) every item and score it against the sharp image."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from tqdm import tqdm

from deblurgan.data.eval_sets import EvalItem
from deblurgan.evaluation.scoring import check_crop, nonblind_references, oriented_kernel, score
from deblurgan.io.images import read_image


@dataclasses.dataclass
class EvalResult:
    """Scores of one item; ``images`` holds the pictures for the report (not serialised)."""

    key: str
    height: int
    width: int
    scores: dict[str, dict[str, float]]  # method -> {"psnr", "ssim"}
    seconds: float | None = None
    decision: str | None = None  # what an automatic method chose (Restoration.decision)
    images: dict[str, np.ndarray] = dataclasses.field(default_factory=dict, repr=False)

    def row(self, decision: bool = False) -> dict[str, Any]:
        """Flat record: key, size, seconds, (``decision``), and METHOD_psnr / METHOD_ssim /
        METHOD_psnr_gain.

        Args:
            decision: Include the ``decision`` column (where any item of a report has one).
        """
        record: dict[str, Any] = {
            "key": self.key,
            "height": self.height,
            "width": self.width,
            "seconds": self.seconds,
        }
        if decision:
            record["decision"] = self.decision
        base = self.scores["blurred"]["psnr"]
        for method, values in self.scores.items():
            record[f"{method}_psnr"] = values["psnr"]
            record[f"{method}_ssim"] = values["ssim"]
            if method != "blurred":
                record[f"{method}_psnr_gain"] = values["psnr"] - base
        return record


def evaluate(
    items: list[EvalItem],
    deblur: Callable[[np.ndarray], np.ndarray] | None = None,
    *,
    other_name: str = "other",
    y_channel: bool = False,
    border: int = 0,
    nonblind: bool = False,
    align: int = 0,
    subpixel: bool = False,
    progress: bool = True,
    warm_up: bool = True,
) -> list[EvalResult]:
    """Score the blurred input, our restoration and another method's on every item.

    Args:
        items: From :func:`deblurgan.data.eval_sets.find_eval_items`.
        deblur: RGB [0, 1] -> RGB [0, 1] (a :class:`~deblurgan.Deblurrer`); None to skip.
            A method with ``restore`` (:class:`~deblurgan.restoration.DeblurMethod`) is
            called through it, and its ``decision`` is kept in the result.
        other_name: Label of the other method's outputs (``item.other``).
        y_channel, border: See :func:`deblurgan.evaluation.scoring.score`.
        nonblind: Add Richardson-Lucy, Wiener and hyper-Laplacian deconvolution with the
            true kernel where known.
        align: Compensate integer shifts up to this many pixels before scoring.
        subpixel: Instead, Levin et al.'s sub-pixel alignment (0.25 px steps within
            +-5 px, 15 px crop; :mod:`deblurgan.evaluation.subpixel`).
        progress: Show a progress bar.
        warm_up: Run ``deblur`` once on the first image before timing; False where
            ``seconds`` does not matter (it then includes the first run's set-up).

    Returns:
        One result per item. ``seconds`` is our time per image, measured after a
        warm-up run on the first image (unless ``warm_up`` is False).
    """
    if warm_up and deblur is not None and items:
        deblur(read_image(items[0].blurred).rgb)  # warm-up: allocations, kernel selection
    results = []
    for item in tqdm(items, desc="evaluating", unit="image", disable=not progress):
        blurred, sharp = read_image(item.blurred).rgb, read_image(item.sharp).rgb
        if blurred.shape != sharp.shape:
            raise ValueError(
                f"{item.blurred}: size {blurred.shape} differs from {item.sharp} {sharp.shape}"
            )
        try:  # before the method's run, not after it
            check_crop(*sharp.shape[:2], border, align, subpixel)
        except ValueError as err:
            raise ValueError(f"{item.blurred}: {err}") from err
        images = {"blurred": blurred, "sharp": sharp}
        seconds = decision = None
        if deblur is not None:
            start = time.perf_counter()
            if hasattr(deblur, "restore"):
                restoration = deblur.restore(blurred)
                images["ours"], decision = restoration.rgb, restoration.decision
            else:
                images["ours"] = deblur(blurred)
            seconds = time.perf_counter() - start
        if item.other is not None:
            other = read_image(item.other).rgb
            if other.shape != sharp.shape:
                raise ValueError(
                    f"{item.other}: size {other.shape[1]}x{other.shape[0]} differs from "
                    f"{item.sharp} {sharp.shape[1]}x{sharp.shape[0]}"
                )
            images[other_name] = other
        if nonblind and item.kernel is not None:
            kernel = oriented_kernel(read_image(item.kernel).rgb.mean(axis=2), blurred, sharp)
            refs = nonblind_references(blurred, kernel)
            images.update({f"nonblind_{k}": v for k, v in refs.items()})
        scores = {
            name: score(image, sharp, y_channel, border, align, subpixel)
            for name, image in images.items()
            if name != "sharp"
        }
        results.append(
            EvalResult(item.key, sharp.shape[0], sharp.shape[1], scores, seconds, decision, images)
        )
    return results


def summarise(results: list[EvalResult]) -> dict[str, dict[str, float]]:
    """Mean PSNR, SSIM and PSNR gain over the blurred input, per method, over the items
    that method has (``images`` says how many: fewer where outputs were missing)."""
    methods = dict.fromkeys(m for r in results for m in r.scores)
    summary = {}
    for method in methods:
        scored = [r for r in results if method in r.scores]
        psnrs = [r.scores[method]["psnr"] for r in scored]
        gains = [r.scores[method]["psnr"] - r.scores["blurred"]["psnr"] for r in scored]
        summary[method] = {
            "psnr": float(np.mean(psnrs)),
            "ssim": float(np.mean([r.scores[method]["ssim"] for r in scored])),
            "psnr_gain": float(np.mean(gains)),
            "images": len(scored),
        }
    return summary
