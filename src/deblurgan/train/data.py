"""Training samples: finding them, deterministic sampling, crops and on-the-fly synthetic blur.

Every sample is addressed by ``(index, seed)``: its crop position, flip and
(for synthetic pairs) blur kernel and noise come from ``seed`` alone, so the
data of a run depends only on the run's seed, not on worker count or timing;
resuming replays it exactly. A file that fails to decode mid-run is replaced
by the next sample and counted; it never ends the run.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch

from deblurgan.data.pairs import (
    Pair,
    drop_unreadable,
    find_aligned,
    find_paired,
    find_sharp_images,
    load_pair,
    read_pair_list,
    split_validation,
)
from deblurgan.data.recipe import synthetic_pair
from deblurgan.io.images import ImageReadError, read_image
from deblurgan.nets.tensors import rgb_to_tensor
from deblurgan.train.config import DataConfig


def gather_pairs(data: DataConfig) -> tuple[list, list, list, list[str]]:
    """Real training pairs, synthetic sources, validation pairs, and problems found.

    Every file's image header is checked: unreadable ones (empty, truncated
    header, not an image) are left out and reported among the problems.
    """
    real, problems = [], []
    for root in data.paired:
        found, issues = find_paired(root)
        real += found
        problems += issues
    for folder in data.aligned:
        real += find_aligned(folder)
    for list_file in data.lists:
        found, issues = read_pair_list(list_file)
        real += found
        problems += issues
    synthetic = [p for folder in data.synthetic for p in find_sharp_images(folder)]
    if data.val:
        val = []
        for root in data.val:
            found, issues = find_paired(root)
            val += found
            problems += issues
    else:
        real, val = split_validation(real, data.val_fraction)
    real, synthetic, val = (_readable(items, problems) for items in (real, synthetic, val))
    return real, synthetic, val, problems


def _readable(items: list, problems: list[str]) -> list:
    kept, dropped = drop_unreadable(items)
    problems += dropped
    return kept


class TrainingPairs(torch.utils.data.Dataset):
    """Random crops of real pairs and of sharp images blurred on the fly.

    Indices ``0 .. len(real) - 1`` are real pairs, the rest synthetic sources.
    ``dataset[(index, seed)]`` returns ``(blurred, sharp)`` tensors in [-1, 1]
    and the number of samples skipped to get them: a file that cannot be decoded
    is reported in a warning and the next index is used with the same seed.

    Shape:
        - ``blurred``, ``sharp``: :math:`(3, crop, crop)`; ``skipped``: a 0-d int64 tensor.
    """

    def __init__(self, real: list[Pair], synthetic: list[Path], config: DataConfig) -> None:
        self.real, self.synthetic, self.config = real, synthetic, config

    def __len__(self) -> int:
        return len(self.real) + len(self.synthetic)

    def __getitem__(self, key: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        index, seed = key
        for skipped in range(len(self)):
            rng = np.random.default_rng(seed)
            try:
                blurred, sharp = self._sample(rng, (index + skipped) % len(self))
            except ImageReadError as err:
                warnings.warn(f"training data: skipped a sample: {err}", stacklevel=2)
                continue
            return rgb_to_tensor(blurred)[0], rgb_to_tensor(sharp)[0], torch.tensor(skipped)
        raise ImageReadError("training data: no file of the dataset can be decoded")

    def _sample(self, rng: np.random.Generator, index: int) -> tuple[np.ndarray, np.ndarray]:
        if index < len(self.real):
            return self._augment(rng, self.config.crop, *load_pair(self.real[index]))
        return self._synthetic(rng, self.synthetic[index - len(self.real)])

    def _synthetic(self, rng: np.random.Generator, source: Path) -> tuple[np.ndarray, np.ndarray]:
        """Blur a crop with a margin (so warps and kernels see real pixels at its border),
        then cut the margin off; moving layers come from another random source image."""
        c, margin = self.config, self.config.crop // 4
        (sharp,) = self._augment(rng, c.crop + 2 * margin, read_image(source).rgb)
        load_layers = None
        if c.blur.scene_weight and c.blur.scene.objects[1] and len(self.synthetic) > 1:
            other = self.synthetic[rng.integers(len(self.synthetic))]
            load_layers = lambda: (read_image(other).rgb,)  # noqa: E731 - read in scene mode only
        pair = synthetic_pair(sharp, c.blur, rng, load_layers)
        inner = (slice(margin, margin + c.crop), slice(margin, margin + c.crop))
        return pair.blurred[inner], pair.sharp[inner]

    def _augment(
        self, rng: np.random.Generator, size: int, *images: np.ndarray
    ) -> list[np.ndarray]:
        """The same random ``size`` x ``size`` crop (and flip) of each image."""
        c = self.config
        if c.downscale:
            images = tuple(_halve(im) for im in images)
        height, width = images[0].shape[:2]
        if min(height, width) < size:  # mirror small images up to the crop size
            pad = ((0, max(0, size - height)), (0, max(0, size - width)), (0, 0))
            images = tuple(np.pad(im, pad, mode="symmetric") for im in images)
            height, width = images[0].shape[:2]
        y, x = rng.integers(0, height - size + 1), rng.integers(0, width - size + 1)
        flip = c.flip and rng.random() < 0.5
        out = []
        for im in images:
            crop = im[y : y + size, x : x + size]
            out.append(np.ascontiguousarray(crop[:, ::-1] if flip else crop))
        return out


class EpochPlan:
    """The deterministic order of samples: which ``(index, seed)`` comes when.

    An epoch visits every real pair once and ``synthetic_ratio`` synthetic
    samples per real pair (all synthetic sources once when there are no real
    pairs), in a permutation drawn from ``(seed, epoch)``. Rank ``r`` of
    ``world`` takes positions ``r, r + world, ...``; each rank gets the same
    number of whole batches, so no sample is seen twice in an epoch.
    """

    def __init__(
        self,
        n_real: int,
        n_synthetic: int,
        ratio: float,
        seed: int,
        batch_size: int,
        rank: int = 0,
        world: int = 1,
    ) -> None:
        if n_real + n_synthetic == 0:
            raise ValueError(
                "no training pairs: configure data.paired, aligned, lists or synthetic"
            )
        self.n_real, self.n_synthetic, self.ratio, self.seed = n_real, n_synthetic, ratio, seed
        self.batch_size, self.rank, self.world = batch_size, rank, world
        self._cache: tuple[int, list[tuple[int, int]]] = (-1, [])
        per_rank = len(self._keys(0)) // world
        self.batches_per_epoch = per_rank // batch_size
        if self.batches_per_epoch == 0:
            raise ValueError(
                f"an epoch of {len(self._keys(0))} samples cannot fill one batch of "
                f"{batch_size} on each of {world} processes"
            )

    def _keys(self, epoch: int) -> list[tuple[int, int]]:
        if self._cache[0] == epoch:
            return self._cache[1]
        rng = np.random.default_rng([self.seed, epoch])
        indices = list(range(self.n_real))
        if self.n_synthetic:
            count = round(self.ratio * self.n_real) if self.n_real else self.n_synthetic
            start = epoch * count  # cycle through the sources across epochs
            indices += [self.n_real + (start + i) % self.n_synthetic for i in range(count)]
        order = rng.permutation(len(indices))
        seeds = rng.integers(0, 2**63 - 1, len(indices))
        self._cache = (epoch, [(indices[i], int(s)) for i, s in zip(order, seeds)])
        return self._cache[1]

    def batch(self, number: int) -> list[tuple[int, int]]:
        """Keys of this rank's ``number``-th batch since the start of training."""
        epoch, position = divmod(number, self.batches_per_epoch)
        mine = self._keys(epoch)[self.rank :: self.world]
        return mine[position * self.batch_size : (position + 1) * self.batch_size]


class PlanSampler(torch.utils.data.Sampler):
    """Endless batches of keys from batch ``start`` on, for a DataLoader's ``batch_sampler``."""

    def __init__(self, plan: EpochPlan, start: int = 0) -> None:
        self.plan, self.start = plan, start

    def __iter__(self):
        number = self.start
        while True:
            yield self.plan.batch(number)
            number += 1


def limit_worker_threads(worker_id: int = 0) -> None:
    """Run a data worker on one thread: torch, OpenCV, numba and BLAS/OpenMP pools.

    Each worker is one of several processes; with every library's default of one
    thread per core, 14 workers on 16 cores ran hundreds of threads and starved
    the training process. ``DataLoader(worker_init_fn=...)``.
    """
    import cv2
    import numba
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    numba.set_num_threads(1)
    threadpool_limits(1)


def _halve(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[0] // 2 * 2, image.shape[1] // 2 * 2
    return image[:h, :w].reshape(h // 2, 2, w // 2, 2, -1).mean(axis=(1, 3))
