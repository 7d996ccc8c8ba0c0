"""Stand-in models for the job queue's tests, importable by a worker process (picklable):
one that ignores cancels (a long call, like the network's), one that reports stages (like
blind deconvolution), and one whose process dies. The first two open a tqdm bar, as the real
methods do (tqdm's lock between processes is a semaphore)."""

from __future__ import annotations

import os
import time

import numpy as np
from tqdm import tqdm

from deblurgan.restoration import Restoration


class Sleepy:
    """Returns the image after ``seconds``, in one call that cannot be interrupted."""

    name = "network"

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        if not np.all(rgb == 0.5):  # the photos, not the grey speed checks
            tqdm(disable=True).close()
            time.sleep(self.seconds)
        return rgb


class Staged:
    """Reports ``steps`` stages of 0.1 s each, then returns the image with a decision."""

    name = "l0"

    def __init__(self, on_stage, steps: int) -> None:
        self.on_stage, self.steps = on_stage, steps

    def restore(self, rgb: np.ndarray) -> Restoration:
        tqdm(disable=True).close()
        for step in range(self.steps):
            self.on_stage(
                "estimating the blur" if step < self.steps // 2 else "sharpening", step / self.steps
            )
            time.sleep(0.1)
        return Restoration(rgb, decision="uniform shake, kernel 21 px")

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        return self.restore(rgb).rgb


def make(options, on_stage):
    """``network``: :class:`Sleepy` (60 s); ``l0``: :class:`Staged` (20 stages); ``auto``:
    a model whose process dies on the first photo."""
    if options.method == "network":
        return Sleepy(60.0)
    if options.method == "l0":
        return Staged(on_stage, 20)
    return lambda rgb: os._exit(3)


def build(base, models, options, on_stage):
    """:func:`make` in the place of ``deblurgan.serve.runner.build_job_method``."""
    return make(options, on_stage)
