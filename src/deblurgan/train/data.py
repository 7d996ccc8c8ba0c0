"""Training samples: finding them, deterministic sampling, crops and on-the-fly synthetic blur.

Every sample is addressed by ``(index, seed)``: its crop position, flip and
(for synthetic pairs) blur kernel and noise come from ``seed`` alone, so the
data of a run depends only on the run's seed, not on worker count or timing;
resuming replays it exactly. A file that fails to decode mid-run is replaced
by the next sample and never read again; it is reported once, and the run
stops only when more than ``data.max_unreadable`` of the data is unreadable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

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
from deblurgan.io.images import ImageReadError, open_image, read_image
from deblurgan.nets.tensors import rgb_to_tensor
from deblurgan.train.config import DataConfig

_T = TypeVar("_T")


class UnreadableDataError(ValueError):
    """More of the training (or validation) data cannot be decoded than the run accepts."""


class DataSourceError(ValueError):
    """A configured data source is missing, unreadable or empty; the message names its key."""


def gather_pairs(data: DataConfig) -> tuple[list, list, list, list[str]]:
    """Real training pairs, synthetic sources, validation pairs, and problems found.

    Every file's image header is checked: unreadable ones (empty, truncated
    header, not an image) are left out and reported among the problems.

    Raises:
        DataSourceError: A configured folder or list is missing or unreadable, a
            ``data.val`` root holds no pairs, or the ``data.val_fraction`` hold-out took
            every training pair.
        ValueError: A training image is smaller than ``data.crop`` (:func:`check_crop_fits`).
        UnreadableDataError: More than ``data.max_unreadable`` of the training
            samples, or of the validation pairs, are unreadable.
    """
    real, problems = [], []
    for root in data.paired:
        found, issues = _find("data.paired", root, find_paired)
        real += found
        problems += issues
    for folder in data.aligned:
        real += _find("data.aligned", folder, find_aligned)
    for list_file in data.lists:
        found, issues = _find("data.lists", list_file, read_pair_list)
        real += found
        problems += issues
    synthetic = [p for f in data.synthetic for p in _find("data.synthetic", f, find_sharp_images)]
    if data.val:
        val = []
        for root in data.val:
            found, issues = _find("data.val", root, find_paired)
            if not found:
                raise DataSourceError(
                    f"data.val: {root} holds no validation pairs ({issues[0]}"
                    + (f", and {len(issues) - 1} more problems" if len(issues) > 1 else "")
                    + "): give a folder with blur/NAME and sharp/NAME images, or leave data.val "
                    "empty to hold out data.val_fraction of the training pairs"
                )
            val += found
            problems += issues
    else:
        found = len(real)
        real, val = split_validation(real, data.val_fraction)
        if found and not real and not synthetic:
            raise DataSourceError(
                f"no training pairs left: the validation hold-out (data.val_fraction="
                f"{data.val_fraction:g}) took all {len(val)} of the {found} pairs found; lower "
                "data.val_fraction, add pairs, or give validation pairs in data.val"
            )
    training = len(real) + len(synthetic)
    real, synthetic, val_kept = (_readable(items, problems) for items in (real, synthetic, val))
    for what, kept, total in (
        ("training samples", len(real) + len(synthetic), training),
        ("validation pairs", len(val_kept), len(val)),
    ):
        _check_share(total - kept, total, data.max_unreadable, what, "at start-up")
    check_crop_fits([*real, *synthetic], data)
    return real, synthetic, val_kept, problems


def check_crop_fits(items: list[Pair] | list[Path], data: DataConfig) -> None:
    """Refuse a ``data.crop`` larger than a training image (after ``data.downscale``'s
    halving), from the files' headers: its crops would be mirror-padded, training the
    network on made-up borders.

    Args:
        items: Pairs (their blurred file is measured; side by side: half its width) and
            sharp images for synthetic blur.
        data: The data settings (``crop``, ``downscale``).

    Raises:
        ValueError: Naming the crop, how many images are smaller and the smallest of them.
    """
    small = []
    for item in items:
        path = item if isinstance(item, Path) else item.blurred
        try:
            with open_image(path, max_pixels=None) as image:
                width, height = image.size
        except (OSError, ValueError):  # damaged since the header check: left to the loader
            continue
        if isinstance(item, Pair) and item.sharp is None:
            width //= 2
        if data.downscale:
            width, height = width // 2, height // 2
        if min(width, height) < data.crop:
            small.append((min(width, height), width, height, path))
    if small:
        side, width, height, path = min(small)
        halved = " after data.downscale halves them" if data.downscale else ""
        raise ValueError(
            f"data.crop={data.crop} is larger than {len(small)} of the {len(items)} training "
            f"images{halved}; the smallest, {path}, is {width}x{height}: set data.crop to at "
            f"most {side} or leave the smaller images out (crops are never padded)"
        )


def _find(key: str, source: str, find: Callable[[str], _T]) -> _T:
    """``find(source)``; a missing or unreadable source raises naming the config ``key``."""
    try:
        return find(source)
    except OSError as err:
        cause = f"{err.filename}: {err.strerror}" if err.filename and err.strerror else err
        raise DataSourceError(f"{key}: {cause}") from err


def _readable(items: list, problems: list[str]) -> list:
    kept, dropped = drop_unreadable(items)
    problems += dropped
    return kept


def _check_share(bad: int, total: int, limit: float, what: str, when: str) -> None:
    if total and bad > limit * total:
        raise UnreadableDataError(
            f"{bad} of {total} {what} cannot be read ({when}), more than "
            f"data.max_unreadable={limit:g} of them: repair or remove the files named above, "
            "or raise data.max_unreadable"
        )


class UnreadableFiles:
    """The training samples found unreadable during a run: each is reported once, and too
    many of them stop the run.

    Args:
        total: Samples in the dataset.
        limit: Share of them that may be unreadable (``data.max_unreadable``).
        report: Called with one line per newly found file.
    """

    def __init__(self, total: int, limit: float, report: Callable[[str], None]) -> None:
        self.total, self.limit, self.report = total, limit, report
        self.causes: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self.causes)

    def add(self, found: Iterable[tuple[int, str]]) -> None:
        """Record ``(index, cause)`` items from :func:`collate_samples` batches.

        Raises:
            UnreadableDataError: More than ``limit`` of the samples are now unreadable.
        """
        for index, cause in found:
            if index not in self.causes:
                self.causes[index] = cause
                self.report(f"data: left out for the rest of the run: {cause}")
        _check_share(len(self.causes), self.total, self.limit, "training samples", "decoding")


class _Unreadable(Exception):
    """Sample ``index`` cannot be decoded (``new``: found now, not known before)."""

    def __init__(self, index: int, cause: str, new: bool) -> None:
        super().__init__(cause)
        self.index, self.cause, self.new = index, cause, new


class TrainingPairs(torch.utils.data.Dataset):
    """Random crops of real pairs and of sharp images blurred on the fly.

    Indices ``0 .. len(real) - 1`` are real pairs, the rest synthetic sources.
    ``dataset[(index, seed)]`` returns ``(blurred, sharp)`` tensors in [-1, 1]
    and the ``(index, cause)`` of files found unreadable while making them
    (usually none). A sample whose file cannot be decoded is replaced by the
    next index with the same seed, and the file is never read again by this
    process (:attr:`unreadable`): a sample known to be unreadable is passed over
    the same way, so the data does not depend on which process found it first.
    Batch with :func:`collate_samples`.

    Shape:
        - ``blurred``, ``sharp``: :math:`(3, crop, crop)`.
    """

    def __init__(self, real: list[Pair], synthetic: list[Path], config: DataConfig) -> None:
        self.real, self.synthetic, self.config = real, synthetic, config
        self.unreadable: dict[int, str] = {}  # index -> cause, as found by this process

    def __len__(self) -> int:
        return len(self.real) + len(self.synthetic)

    def __getitem__(
        self, key: tuple[int, int]
    ) -> tuple[torch.Tensor, torch.Tensor, tuple[tuple[int, str], ...]]:
        index, seed = key
        found = []
        for step in range(len(self)):
            candidate = (index + step) % len(self)
            try:
                blurred, sharp = self._sample(np.random.default_rng(seed), candidate)
            except _Unreadable as err:
                if err.new:
                    found.append((err.index, err.cause))
                continue
            return rgb_to_tensor(blurred)[0], rgb_to_tensor(sharp)[0], tuple(found)
        raise UnreadableDataError("training data: no file of the dataset can be decoded")

    def _sample(self, rng: np.random.Generator, index: int) -> tuple[np.ndarray, np.ndarray]:
        if index < len(self.real):
            pair = self.real[index]
            return self._augment(rng, self.config.crop, *self._load(index, lambda: load_pair(pair)))
        return self._synthetic(rng, index)

    def _load(self, index: int, load: Callable[[], _T]) -> _T:
        """``load()``, unless sample ``index`` is known to be unreadable or turns out to be."""
        if index in self.unreadable:
            raise _Unreadable(index, self.unreadable[index], new=False)
        try:
            return load()
        except ImageReadError as err:
            self.unreadable[index] = str(err)
            raise _Unreadable(index, str(err), new=True) from err

    def _read_source(self, index: int) -> np.ndarray:
        source = self.synthetic[index - len(self.real)]
        return self._load(index, lambda: read_image(source).rgb)

    def _synthetic(self, rng: np.random.Generator, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Blur a crop with a margin (so warps and kernels see real pixels at its border),
        then cut the margin off; moving layers come from another random source image."""
        c, margin = self.config, self.config.crop // 4
        (sharp,) = self._augment(rng, c.crop + 2 * margin, self._read_source(index))
        load_layers = None
        if c.blur.uses_layers() and len(self.synthetic) > 1:
            other = len(self.real) + int(rng.integers(len(self.synthetic)))
            load_layers = lambda: (self._read_source(other),)  # noqa: E731 - scene mode only
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
        if min(height, width) < size:  # mirrored on both sides: only a synthetic crop's
            # margin, never the crop of an image at least as large (check_crop_fits)
            pad = (_split(size - height), _split(size - width), (0, 0))
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


def collate_samples(
    samples: list[tuple[torch.Tensor, torch.Tensor, tuple[tuple[int, str], ...]]],
) -> tuple[torch.Tensor, torch.Tensor, list[tuple[int, str]]]:
    """A batch of :class:`TrainingPairs` samples: stacked tensors and every unreadable file
    found while making them (``DataLoader(collate_fn=...)``)."""
    blurred, sharp, found = zip(*samples)
    return torch.stack(blurred), torch.stack(sharp), [item for items in found for item in items]


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


def _split(missing: int) -> tuple[int, int]:
    """Padding before and after for ``missing`` pixels (none if not positive)."""
    missing = max(0, missing)
    return missing // 2, missing - missing // 2


def _halve(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[0] // 2 * 2, image.shape[1] // 2 * 2
    return image[:h, :w].reshape(h // 2, 2, w // 2, 2, -1).mean(axis=(1, 3))
