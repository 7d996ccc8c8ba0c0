"""Build the data pack that travels with a GPU sprint (scripts/gpu_sprint.sh), from ../shared.

The pack holds, as lossless WebP (layout: :mod:`deblurgan.train.sprint_data`):

- train/real: real GoPro pairs of the training recording GOPR0477 (``gopro_pairs``) and
  pairs averaged here from its raw 240 fps frames (``gopro_raw240fps``, 7-13 frames in
  linear light, the centre frame sharp), full 1280x720 frames;
- train/sharp: one square tile per sharp photo of ``sharp_corpus`` (urban100, bsd100,
  mcmaster18; never kodak24, the do-no-harm set), every tenth photo held out;
- eval/gopro_GOPR0374: the pairs of another recording, never trained on;
- eval/gopro_test_crops: ``gopro_crops256`` (GoPro test recordings);
- eval/synthetic_kernel, eval/synthetic_scene: held-out photos blurred here by the
  package's numpy recipe (camera-shake kernels; dynamic scenes), a fixed seed.

Training tiles are added until the pack reaches ``--max-mib``. Usage:

    python scripts/build_sprint_pack.py [--shared ../shared] [--out sprint_pack] [--max-mib 40]
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from deblurgan.blur.frames import average_frames
from deblurgan.data.recipe import BlurSettings, KernelBlur, synthetic_pair

PHOTO_SETS = ("urban100", "bsd100", "mcmaster18")  # kodak24 stays out: it is a held-out set
HOLD_OUT_EVERY = 10


def webp(pixels: np.ndarray) -> bytes:
    """Lossless WebP bytes of uint8 RGB ``pixels``."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="WEBP", lossless=True, quality=100, method=4)
    return buffer.getvalue()


def read(path: Path) -> np.ndarray:
    """uint8 RGB pixels of an image file."""
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def centre(pixels: np.ndarray, side: int) -> np.ndarray:
    """The centred crop of at most ``side`` x ``side``."""
    h, w = pixels.shape[:2]
    top, left = max(0, (h - side) // 2), max(0, (w - side) // 2)
    return pixels[top : top + side, left : left + side]


class PackWriter:
    """Writes files under ``root`` and counts their bytes against a budget."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root, self.max_bytes, self.used = root, max_bytes, 0
        self.counts: dict[str, int] = {}

    def fits(self, size: int) -> bool:
        """Whether ``size`` more bytes stay within the budget."""
        return self.used + size <= self.max_bytes

    def write(self, relative: str, data: bytes, group: str) -> None:
        """Write one file (its folders made) and count it under ``group``."""
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.used += len(data)
        self.counts[group] = self.counts.get(group, 0) + 1

    def pair(self, folder: str, name: str, blurred: np.ndarray, sharp: np.ndarray) -> bool:
        """Write a pair if it fits the budget; returns whether it did."""
        b, s = webp(blurred), webp(sharp)
        if not self.fits(len(b) + len(s)):
            return False
        self.write(f"{folder}/blur/{name}.webp", b, folder)
        self.write(f"{folder}/sharp/{name}.webp", s, folder)
        return True


def averaged_pairs(frames: list[Path], rng: np.random.Generator) -> Iterator[tuple]:
    """Consecutive, non-overlapping windows of 7-13 frames: (name, blurred, sharp)."""
    start = 0
    while True:
        n = int(rng.integers(7, 14))
        if start + n > len(frames):
            return
        window = [read(p) for p in frames[start : start + n]]
        name = f"{frames[0].parent.name}_from-{start + 1:06d}_n_avg-{n}"
        yield name, average_frames(window), window[n // 2]
        start += n


def photos(data: Path) -> tuple[list[Path], list[Path]]:
    """The sharp photos (round robin over :data:`PHOTO_SETS`) split into training and
    held-out ones (every :data:`HOLD_OUT_EVERY`-th of each set)."""
    per_set = [sorted((data / "sharp_corpus" / s).glob("*.*")) for s in PHOTO_SETS]
    train, held = [], []
    for i in range(max(map(len, per_set), default=0)):
        for files in per_set:
            if i < len(files):
                (held if i % HOLD_OUT_EVERY == HOLD_OUT_EVERY - 1 else train).append(files[i])
    return train, held


def build_pack(
    shared: Path,
    out: Path,
    max_mib: float = 40.0,
    tile: int = 320,
    eval_crop: int = 256,
    real_mib: float = 12.0,
    seed: int = 0,
) -> dict:
    """Write the pack to ``out`` (replaced) and return its manifest.

    Raises:
        FileNotFoundError: ``shared/data`` is missing.
    """
    data = shared / "data"
    if not data.is_dir():
        raise FileNotFoundError(f"{data} not found: pass --shared (the folder holding data/)")
    rng = np.random.default_rng(seed)
    staging = out.with_name(out.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    writer = PackWriter(staging, int(max_mib * 2**20))
    train_photos, held_photos = photos(data)

    # Held-out sets first: they must be complete whatever the budget leaves for training.
    for blur in sorted((data / "gopro_pairs" / "blur").glob("GOPR0374*")):
        sharp = data / "gopro_pairs" / "sharp" / blur.name
        writer.pair("eval/gopro_GOPR0374", blur.stem, read(blur), read(sharp))
    for blurred in sorted((data / "gopro_crops256").glob("*_in.png")):
        sharp = blurred.with_name(blurred.name.replace("_in.png", "_gt.png"))
        name = blurred.name.replace("_in.png", "")
        writer.pair("eval/gopro_test_crops", name, read(blurred), read(sharp))
    kernel = BlurSettings.only("kernel", kernel=KernelBlur(linear_light=True, noise_std=0.005))
    scene = BlurSettings.only("scene")
    layers = tuple(centre(read(p), eval_crop + 64) for p in held_photos[:4])
    for i, path in enumerate(held_photos):
        settings, folder = (kernel, "kernel") if i % 2 == 0 else (scene, "scene")
        pair = synthetic_pair(centre(read(path), eval_crop + 64), settings, rng, lambda: layers)
        writer.pair(
            f"eval/synthetic_{folder}",
            path.stem + "_" + path.parent.name,
            centre(pair.blurred, eval_crop),
            centre(pair.sharp, eval_crop),
        )

    # Real training pairs, up to their own share.
    real = PackWriter(staging, writer.used + int(real_mib * 2**20))
    real.used = writer.used
    sources = [
        (b.stem, read(b), read(data / "gopro_pairs" / "sharp" / b.name))
        for b in sorted((data / "gopro_pairs" / "blur").glob("GOPR0477*"))
    ]
    raw = sorted((data / "gopro_raw240fps").glob("*/*.png"))
    for name, blurred, sharp in [*sources, *averaged_pairs(raw, rng)]:
        if not real.pair("train/real", name, blurred, sharp):
            break
    writer.used, writer.counts = real.used, {**writer.counts, **real.counts}

    # Sharp photo tiles until the budget is spent.
    for path in train_photos:
        pixels = read(path)
        h, w = pixels.shape[:2]
        if min(h, w) < tile:
            continue
        top, left = int(rng.integers(h - tile + 1)), int(rng.integers(w - tile + 1))
        data_bytes = webp(pixels[top : top + tile, left : left + tile])
        if not writer.fits(data_bytes.__len__()):
            break
        writer.write(f"train/sharp/{path.parent.name}_{path.stem}.webp", data_bytes, "train/sharp")

    manifest = {
        "format": "deblurgan.sprint_pack",
        "version": 1,
        "seed": seed,
        "tile": tile,
        "eval_crop": eval_crop,
        "bytes": writer.used,
        "counts": writer.counts,
        "sources": {
            "train/real": "gopro_pairs GOPR0477 + frames averaged from gopro_raw240fps",
            "train/sharp": f"sharp_corpus {', '.join(PHOTO_SETS)} (not kodak24), tiles",
            "eval": "gopro_pairs GOPR0374, gopro_crops256, held-out photos blurred by the "
            "numpy recipe (kernel: linear light, noise 0.005; scene: defaults)",
        },
    }
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=2))
    shutil.rmtree(out, ignore_errors=True)
    staging.rename(out)
    return manifest


def main(argv: list[str] | None = None) -> int:
    """Command line: build the pack and print what it holds."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = Path(__file__).resolve().parents[1]
    parser.add_argument("--shared", type=Path, default=here.parent / "shared")
    parser.add_argument("--out", type=Path, default=here / "sprint_pack")
    parser.add_argument("--max-mib", type=float, default=40.0)
    parser.add_argument("--tile", type=int, default=320, help="side of the photo tiles")
    parser.add_argument("--real-mib", type=float, default=12.0, help="budget of the real pairs")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        manifest = build_pack(
            args.shared, args.out, args.max_mib, args.tile, real_mib=args.real_mib, seed=args.seed
        )
    except FileNotFoundError as err:
        print(f"build_sprint_pack: error: {err}", file=sys.stderr)
        return 2
    print(
        json.dumps({"out": str(args.out), **manifest["counts"], "MiB": manifest["bytes"] / 2**20})
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
