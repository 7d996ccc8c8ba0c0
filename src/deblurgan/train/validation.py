"""Validation during training: PSNR and SSIM of deterministic restorations, logged, and the
best generator kept."""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from deblurgan.checkpoint import save_generator
from deblurgan.data.pairs import load_pair
from deblurgan.io.images import ImageReadError
from deblurgan.metrics import psnr, ssim
from deblurgan.nets.tensors import rgb_to_tensor, run_padded, tensor_to_rgb
from deblurgan.train.config import Config
from deblurgan.train.run_folder import RunLog, writing
from deblurgan.train.run_setup import Progress


@torch.no_grad()
def validate(
    generator: nn.Module,
    pairs: list,
    device: torch.device,
    max_side: int,
    log: RunLog,
    iteration: int,
    images: bool = False,
) -> dict[str, float]:
    """PSNR/SSIM of deterministic restorations (and of the blurred inputs) on ``pairs``.

    A pair that cannot be decoded is skipped with a warning and counted.

    Args:
        generator: The network (left in training mode afterwards).
        pairs: Validation pairs, as :func:`~deblurgan.data.pairs.load_pair` takes them.
        device: The network's device.
        max_side: Images are centre-cropped to at most this side.
        log: Where the metrics (and images) go.
        iteration: The iteration they are logged at.
        images: Also log the first two blurred | restored | sharp triplets.

    Returns:
        Mean ``psnr``, ``ssim``, ``blurred_psnr``, ``blurred_ssim`` (and ``skipped_pairs``).
    """
    generator.eval()
    scores: dict[str, list[float]] = {
        "psnr": [],
        "ssim": [],
        "blurred_psnr": [],
        "blurred_ssim": [],
    }
    triplets, skipped = [], 0
    for pair in pairs:
        try:
            blurred, sharp = (_centre_crop(im, max_side) for im in load_pair(pair))
        except ImageReadError as err:  # damaged after start-up's header check
            warnings.warn(f"validation: skipped a pair: {err}", stacklevel=2)
            skipped += 1
            continue
        restored = tensor_to_rgb(run_padded(generator, rgb_to_tensor(blurred).to(device)))
        scores["psnr"].append(psnr(restored, sharp))
        scores["ssim"].append(ssim(restored, sharp))
        scores["blurred_psnr"].append(psnr(blurred, sharp))
        scores["blurred_ssim"].append(ssim(blurred, sharp))
        if images and len(triplets) < 2:
            triplets.append(np.concatenate([blurred, restored, sharp], axis=1))
    generator.train()
    metrics = {k: float(np.mean(v)) if v else math.nan for k, v in scores.items()}
    if skipped:
        metrics["skipped_pairs"] = skipped
    log.scalars(iteration, "val", metrics)
    for i, triplet in enumerate(triplets):
        log.image(iteration, f"val/blurred_restored_sharp_{i}", triplet)
    return metrics


def _centre_crop(image: np.ndarray, max_side: int) -> np.ndarray:
    h, w = image.shape[:2]
    th, tw = min(h, max_side), min(w, max_side)
    top, left = (h - th) // 2, (w - tw) // 2
    return image[top : top + th, left : left + tw]


def validate_and_keep_best(
    config: Config,
    generator: nn.Module,
    val: list,
    device: torch.device,
    log: RunLog,
    done: Progress,
    last: bool,
) -> None:
    """Validate (rank 0); a new best PSNR also writes ``RUN/best_generator.safetensors``."""
    metrics = validate(
        generator,
        val,
        device,
        config.data.val_max_side,
        log,
        done.iteration,
        images=done.iteration % config.run.image_every == 0 or last,
    )
    if metrics["psnr"] > done.best_psnr:
        done.best_psnr = metrics["psnr"]
        path = Path(config.run.dir) / "best_generator.safetensors"
        with writing(path):
            save_generator(
                generator, path, training=training_summary(config, done.iteration, metrics)
            )


def training_summary(config: Config, iteration: int, metrics: dict[str, float]) -> dict[str, Any]:
    """What a generator checkpoint records of its training: iteration, metrics, config."""
    return {"iteration": iteration, "validation": metrics, "config": config.to_dict()}
