"""The sprint's data: a pack of images held on the training device, and batches of
training pairs cut, augmented and blurred there.

A pack (written by ``scripts/build_sprint_pack.py``) is a folder::

    manifest.json                 what it holds and where it came from
    train/real/{blur,sharp}/*     real blurred / sharp pairs (GoPro), same names
    train/sharp/*                 sharp photo tiles, blurred on the fly
    eval/SET/{blur,sharp}/*       held-out pairs, one folder per set

:func:`load_pack` reads it once into uint8 tensors on the device; :class:`SprintBatches`
then draws each batch without the CPU touching a pixel: random crops with flips and
transposes by one gather (:func:`gather_crops`), camera-shake and dynamic-scene blur
(:mod:`deblurgan.train.gpu_blur`), and real pairs, mixed by fixed shares.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from deblurgan.train.gpu_blur import kernel_blur_pairs, scene_blur_pairs

IMAGE_SUFFIXES = (".png", ".webp")


def read_rgb(path: Path) -> np.ndarray:
    """An image file as uint8 RGB pixels.

    Shape:
        - Output: :math:`(H, W, 3)`.
    """
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def _stack(images: list[np.ndarray], device: torch.device) -> torch.Tensor:
    """Centre-crop to the smallest height and width, stack as uint8 on ``device``."""
    h = min(i.shape[0] for i in images)
    w = min(i.shape[1] for i in images)
    crops = [i[(i.shape[0] - h) // 2 :][:h, (i.shape[1] - w) // 2 :][:, :w] for i in images]
    return torch.from_numpy(np.stack(crops)).to(device)


def read_pairs(folder: Path) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """The ``blur/NAME`` + ``sharp/NAME`` pairs of ``folder``, sorted by name.

    Raises:
        ValueError: A blurred image has no sharp partner, or their shapes differ.
    """
    pairs = []
    for blur in _files(folder / "blur"):
        sharp = folder / "sharp" / blur.name
        if not sharp.exists():
            raise ValueError(f"{blur} has no sharp partner {sharp}")
        b, s = read_rgb(blur), read_rgb(sharp)
        if b.shape != s.shape:
            raise ValueError(f"{blur.name}: blurred {b.shape} and sharp {s.shape} differ")
        pairs.append((blur.name, b, s))
    return pairs


@dataclasses.dataclass
class Pack:
    """A pack in memory.

    Attributes:
        real_blur, real_sharp: Real pairs on the device, uint8 (N, H, W, 3) (N may be 0).
        photos: Sharp photo tiles on the device, uint8 (M, T, T', 3).
        eval_sets: Set name -> list of ``(name, blurred, sharp)`` uint8 numpy pairs.
        manifest: The pack's manifest.
    """

    real_blur: torch.Tensor
    real_sharp: torch.Tensor
    photos: torch.Tensor
    eval_sets: dict[str, list[tuple[str, np.ndarray, np.ndarray]]]
    manifest: dict


def load_pack(root: str | Path, device: torch.device | str = "cpu") -> Pack:
    """Read a pack folder; training images go to ``device``.

    Raises:
        FileNotFoundError: No pack at ``root`` (no ``manifest.json``).
        ValueError: A pack without sharp photos, or with broken pairs.
    """
    import json

    root = Path(root)
    manifest_path = root / "manifest.json"
    if not manifest_path.is_file():
        raise FileNotFoundError(
            f"no sprint pack at {root} (no manifest.json); build one with "
            "scripts/build_sprint_pack.py"
        )
    manifest = json.loads(manifest_path.read_text())
    device = torch.device(device)
    photo_files = _files(root / "train" / "sharp") if (root / "train" / "sharp").is_dir() else []
    if not photo_files:
        raise ValueError(f"{root}/train/sharp holds no images: the sprint needs sharp photos")
    photos = _stack([read_rgb(p) for p in photo_files], device)
    real = read_pairs(root / "train" / "real") if (root / "train" / "real").is_dir() else []
    if real:
        real_blur = _stack([b for _, b, _ in real], device)
        real_sharp = _stack([s for _, _, s in real], device)
    else:
        real_blur = real_sharp = torch.zeros(0, 1, 1, 3, dtype=torch.uint8, device=device)
    eval_root = root / "eval"
    eval_sets = (
        {d.name: read_pairs(d) for d in sorted(eval_root.iterdir()) if d.is_dir()}
        if eval_root.is_dir()
        else {}
    )
    return Pack(real_blur, real_sharp, photos, eval_sets, manifest)


def gather_crops(
    images: torch.Tensor,
    index: torch.Tensor,
    top: torch.Tensor,
    left: torch.Tensor,
    size: int,
    flips: torch.Tensor | None = None,
) -> torch.Tensor:
    """Square crops of uint8 images, flipped and transposed per sample, in one gather.

    Args:
        images: uint8 images, channels last.
        index, top, left: Per crop, the image and the crop's top-left corner.
        size: Crop side.
        flips: Per crop, three booleans: flip up-down, flip left-right, transpose
            (None: none).

    Returns:
        Float crops in [0, 1], channels first.

    Shape:
        - images: :math:`(N, H, W, C)`; index, top, left: :math:`(B,)`; flips :math:`(B, 3)`.
        - Output: :math:`(B, C, size, size)`.
    """
    device = images.device
    steps = torch.arange(size, device=device)
    b = index.shape[0]
    rows = steps.expand(b, size)
    cols = rows
    if flips is not None:
        rows = torch.where(flips[:, :1], size - 1 - steps, steps)
        cols = torch.where(flips[:, 1:2], size - 1 - steps, steps)
    r = rows[:, :, None].expand(b, size, size)
    c = cols[:, None, :].expand(b, size, size)
    if flips is not None:
        t = flips[:, 2, None, None]
        r, c = torch.where(t, r.transpose(1, 2), r), torch.where(t, c.transpose(1, 2), c)
    y = top[:, None, None] + r
    x = left[:, None, None] + c
    crops = images[index[:, None, None], y, x]  # (B, size, size, C)
    return crops.permute(0, 3, 1, 2).float().div_(255)


@dataclasses.dataclass(frozen=True)
class Mix:
    """How a batch is made: shares of each kind of pair and the blur settings.

    Attributes:
        real, kernel, scene: Relative shares of real pairs, camera-shake pairs and
            dynamic-scene pairs (real pairs count 0 when the pack has none).
        still: Share of the camera-shake samples left unblurred.
        kernel_size: Camera-shake kernel canvas side.
        scene_frames: Instants averaged per dynamic-scene pair (odd).
        scene_margin: Border cut off dynamic-scene pairs.
        scene_motion: The camera's largest travel, as a fraction of the crop side.
        noise: Largest noise standard deviation of the synthetic pairs (display units).
    """

    real: float = 1.0
    kernel: float = 1.0
    scene: float = 1.0
    still: float = 0.1
    kernel_size: int = 31
    scene_frames: int = 9
    scene_margin: int = 16
    scene_motion: float = 0.12
    noise: float = 0.01

    def __post_init__(self) -> None:
        if min(self.real, self.kernel, self.scene) < 0 or self.kernel + self.scene <= 0:
            raise ValueError(
                f"real, kernel, scene: shares >= 0 with kernel + scene > 0, got real={self.real}, "
                f"kernel={self.kernel}, scene={self.scene}"
            )
        if not 0 <= self.still <= 1 or self.kernel_size < 1 or self.scene_margin < 0:
            raise ValueError("still, kernel_size, scene_margin: in [0, 1], >= 1 and >= 0")
        if self.scene_frames < 1 or self.scene_frames % 2 == 0:
            raise ValueError(f"scene_frames: must be odd and positive, got {self.scene_frames}")


def split_batch(batch: int, shares: tuple[float, ...]) -> list[int]:
    """``batch`` samples split by ``shares`` (largest remainders; every count >= 0).

    Examples:
        >>> split_batch(10, (1.0, 1.0, 1.0))
        [4, 3, 3]
    """
    total = sum(shares)
    exact = [batch * s / total for s in shares]
    counts = [int(e) for e in exact]
    order = sorted(range(len(shares)), key=lambda i: counts[i] - exact[i])
    for i in order[: batch - sum(counts)]:
        counts[i] += 1
    return counts


class SprintBatches:
    """Draws training batches from a :class:`Pack` on its device.

    Args:
        pack: The loaded pack.
        batch: Pairs per batch.
        crop: Crop side.
        mix: The shares and blur settings.
        rng: Random source on the pack's device.

    Calling the object returns ``(blurred, sharp)`` in [-1, 1], each :math:`(B, 3, S, S)`.

    Raises:
        ValueError: The photo tiles are too small for the crop plus the blur's margins.
    """

    def __init__(self, pack: Pack, batch: int, crop: int, mix: Mix, rng: torch.Generator) -> None:
        self.pack, self.batch, self.crop, self.mix, self.rng = pack, batch, crop, mix, rng
        real_share = mix.real if len(pack.real_blur) else 0.0
        self.counts = split_batch(batch, (real_share, mix.kernel, mix.scene))
        need = crop + 2 * max(mix.kernel_size // 2, mix.scene_margin)
        if min(pack.photos.shape[1:3]) < need:
            raise ValueError(
                f"photo tiles {tuple(pack.photos.shape[1:3])} are smaller than crop {crop} plus "
                f"the blur margins ({need}); lower data.crop or build the pack with larger tiles"
            )
        if self.counts[0] and min(pack.real_blur.shape[1:3]) < crop:
            raise ValueError(f"real pairs {tuple(pack.real_blur.shape[1:3])} < crop {crop}")

    def _crops(self, images: torch.Tensor, n: int, size: int, *others: torch.Tensor):
        rng, device = self.rng, images.device
        index = torch.randint(len(images), (n,), generator=rng, device=device)
        top = torch.randint(images.shape[1] - size + 1, (n,), generator=rng, device=device)
        left = torch.randint(images.shape[2] - size + 1, (n,), generator=rng, device=device)
        flips = torch.rand(n, 3, generator=rng, device=device) < 0.5
        return [gather_crops(x, index, top, left, size, flips) for x in (images, *others)]

    def __call__(self) -> tuple[torch.Tensor, torch.Tensor]:
        """One batch: ``(blurred, sharp)`` in [-1, 1]."""
        n_real, n_kernel, n_scene = self.counts
        mix, photos, blurred, sharp = self.mix, self.pack.photos, [], []
        if n_real:
            b, s = self._crops(self.pack.real_blur, n_real, self.crop, self.pack.real_sharp)
            blurred.append(b)
            sharp.append(s)
        if n_kernel:
            (tiles,) = self._crops(photos, n_kernel, self.crop + 2 * (mix.kernel_size // 2))
            b, s = kernel_blur_pairs(tiles, mix.kernel_size, self.rng, mix.noise, mix.still)
            blurred.append(b)
            sharp.append(s)
        if n_scene:
            (tiles,) = self._crops(photos, n_scene, self.crop + 2 * mix.scene_margin)
            (other,) = self._crops(photos, n_scene, self.crop + 2 * mix.scene_margin)
            b, s = scene_blur_pairs(
                tiles,
                other,
                self.rng,
                mix.scene_frames,
                mix.scene_margin,
                mix.scene_motion,
                mix.noise,
            )
            blurred.append(b)
            sharp.append(s)
        return torch.cat(blurred) * 2 - 1, torch.cat(sharp) * 2 - 1
