"""Training pairs: discovery on disk, deterministic sampling, crops and on-the-fly blur.

Every sample is addressed by ``(index, seed)``: its crop position, flip and
(for synthetic pairs) blur kernel and noise come from ``seed`` alone, so the
data of a run depends only on the run's seed, not on worker count or timing;
resuming replays it exactly.
"""

from __future__ import annotations

import dataclasses
import zlib
from pathlib import Path

import numpy as np
import torch

from deblurgan.blur.apply import blur_image
from deblurgan.blur.kernels import sample_kernels
from deblurgan.inference.tensors import rgb_to_tensor
from deblurgan.io.images import IMAGE_SUFFIXES, read_image
from deblurgan.train.config import DataConfig

BLUR_FOLDERS = ("blur", "blur_gamma")
SYNTHETIC_EXPOSURES = (0.1, 0.5, 1.0)


@dataclasses.dataclass(frozen=True)
class Pair:
    """A blurred image and its sharp partner; ``sharp=None`` means side by side in ``blurred``."""

    blurred: Path
    sharp: Path | None = None

    @property
    def name(self) -> str:
        return self.blurred.name


def find_paired(root: str | Path) -> tuple[list[Pair], list[str]]:
    """Pairs ``ROOT/**/blur/NAME`` (or ``blur_gamma``) with ``ROOT/**/sharp/NAME``.

    Returns:
        The pairs, sorted, and one message per file whose partner is missing.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such folder")
    pairs, problems = [], []
    for folder in sorted(p for p in root.rglob("*") if p.is_dir() and p.name in BLUR_FOLDERS):
        sharp_dir = folder.parent / "sharp"
        for blurred in sorted(_images(folder)):
            sharp = sharp_dir / blurred.name
            if sharp.is_file():
                pairs.append(Pair(blurred, sharp))
            else:
                problems.append(f"{blurred}: no sharp partner {sharp}")
        for sharp in sorted(_images(sharp_dir)) if sharp_dir.is_dir() else []:
            if folder.name == "blur" and not (folder / sharp.name).is_file():
                problems.append(f"{sharp}: no blurred partner in {folder}")
    if not pairs and not problems:
        problems.append(f"{root}: no blur/ and sharp/ folders found")
    return pairs, problems


def find_aligned(folder: str | Path) -> list[Pair]:
    """Images holding the blurred (left half) and sharp (right half) side by side."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder")
    return [Pair(p) for p in sorted(_images(folder))]


def read_pair_list(list_file: str | Path) -> tuple[list[Pair], list[str]]:
    """Lines ``BLURRED SHARP`` (relative to the list's folder; ``#`` starts a comment)."""
    list_file = Path(list_file)
    pairs, problems = [], []
    for number, line in enumerate(list_file.read_text().splitlines(), 1):
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        if len(fields) != 2:
            problems.append(f"{list_file}:{number}: expected 'BLURRED SHARP', got {line!r}")
            continue
        blurred, sharp = (list_file.parent / f for f in fields)
        missing = [str(p) for p in (blurred, sharp) if not p.is_file()]
        if missing:
            problems.append(f"{list_file}:{number}: missing {', '.join(missing)}")
        else:
            pairs.append(Pair(blurred, sharp))
    return pairs, problems


def find_sharp_images(folder: str | Path) -> list[Path]:
    """All images under ``folder`` (any depth), sorted: sources for on-the-fly synthetic blur."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder")
    return sorted(
        p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
    )


def split_validation(pairs: list[Pair], fraction: float) -> tuple[list[Pair], list[Pair]]:
    """Deterministic hold-out by a hash of each file name (stable as files are added)."""
    threshold = int(fraction * 10_000)
    held = [p for p in pairs if zlib.crc32(p.name.encode()) % 10_000 < threshold]
    return [p for p in pairs if p not in held], held


def load_pair(pair: Pair) -> tuple[np.ndarray, np.ndarray]:
    """Float32 RGB arrays in [0, 1] of the blurred and sharp images."""
    if pair.sharp is None:
        both = read_image(pair.blurred).rgb
        half = both.shape[1] // 2
        return both[:, :half], both[:, half : 2 * half]
    blurred, sharp = read_image(pair.blurred).rgb, read_image(pair.sharp).rgb
    if blurred.shape != sharp.shape:
        raise ValueError(
            f"{pair.blurred}: size {blurred.shape} differs from {pair.sharp} {sharp.shape}"
        )
    return blurred, sharp


class TrainingPairs(torch.utils.data.Dataset):
    """Random crops of real pairs and of sharp images blurred on the fly.

    Indices ``0 .. len(real) - 1`` are real pairs, the rest synthetic sources.
    ``dataset[(index, seed)]`` returns ``(blurred, sharp)`` tensors in [-1, 1].

    Shape:
        - Each returned tensor: :math:`(3, crop, crop)`.
    """

    def __init__(self, real: list[Pair], synthetic: list[Path], config: DataConfig) -> None:
        self.real, self.synthetic, self.config = real, synthetic, config

    def __len__(self) -> int:
        return len(self.real) + len(self.synthetic)

    def __getitem__(self, key: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
        index, seed = key
        rng = np.random.default_rng(seed)
        if index < len(self.real):
            blurred, sharp = load_pair(self.real[index])
            blurred, sharp = self._augment(rng, blurred, sharp)
        else:
            (sharp,) = self._augment(rng, read_image(self.synthetic[index - len(self.real)]).rgb)
            c = self.config
            kernels = sample_kernels(1, rng, c.blur_preset, c.kernel_size, SYNTHETIC_EXPOSURES)
            kernel = kernels.kernels[0, rng.integers(len(SYNTHETIC_EXPOSURES))]
            blurred = blur_image(sharp, kernel, c.linear_light, noise_std=c.noise_std,
                                 poisson_peak=c.poisson_peak, rng=rng)  # fmt: skip
        return rgb_to_tensor(blurred)[0], rgb_to_tensor(sharp)[0]

    def _augment(self, rng: np.random.Generator, *images: np.ndarray) -> list[np.ndarray]:
        c = self.config
        if c.downscale:
            images = tuple(_halve(im) for im in images)
        height, width = images[0].shape[:2]
        if min(height, width) < c.crop:  # mirror small images up to the crop size
            pad = ((0, max(0, c.crop - height)), (0, max(0, c.crop - width)), (0, 0))
            images = tuple(np.pad(im, pad, mode="symmetric") for im in images)
            height, width = images[0].shape[:2]
        y, x = rng.integers(0, height - c.crop + 1), rng.integers(0, width - c.crop + 1)
        flip = c.flip and rng.random() < 0.5
        out = []
        for im in images:
            crop = im[y : y + c.crop, x : x + c.crop]
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

    def __init__(self, n_real: int, n_synthetic: int, ratio: float, seed: int,
                 batch_size: int, rank: int = 0, world: int = 1) -> None:  # fmt: skip
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


def _images(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]


def _halve(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[0] // 2 * 2, image.shape[1] // 2 * 2
    return image[:h, :w].reshape(h // 2, 2, w // 2, 2, -1).mean(axis=(1, 3))
