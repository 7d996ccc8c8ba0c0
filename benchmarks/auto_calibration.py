"""Calibrate ``--method auto``'s decision on TRAINING data only, and show what it decides.

Builds five kinds of training photo from ``SHARED/data`` (never Kodak24, Levin, GOPR0374,
GOPR0477's held-out moments or ``gopro_crops256``):

- ``sharp``: crops of sharp training photos (``sharp_corpus`` Urban100 / BSD100);
- ``uniform``: the same kind of crops blurred in linear light by one random camera-shake
  kernel (``deblurgan.blur.sample_kernels``), 1/255 noise, 8-bit;
- ``rotation``: blurred by a random hand-held camera rotation (``deblurgan.blur.rotation``);
- ``scene``: the dynamic-scene synthesis with moving objects (``deblurgan.blur.scene``);
- ``gopro``: GoPro's training recording GOPR0477 (the shared training pairs and pairs
  averaged from raw frames 1-80; with ``--long-clips`` also 16 longer averages of 13 and
  17 of those frames, whose blur is larger).

For each it prints the evidence :class:`~deblurgan.methods.decision.Evidence`, the decision,
and the PSNR gain (aligned within 8 px) of every outcome: one kernel (``l0``), kernels
that vary, the network, and the input unchanged; the best outcome per photo is what the
thresholds should pick. ``--json`` also keeps each window's kernel spread, radius and
contrast on the spread variation's grid, so other statistics of them can be scored from the
file (docs/auto.md, rounds 18-20). Usage:

    python benchmarks/auto_calibration.py [--shared ../shared] [--per-kind 8] [--seed 0]
                                          [--long-clips] [--jpeg QUALITY] [--json OUT]
    python benchmarks/auto_calibration.py --search OUT [OUT ...]  # the bounds' gains
"""

from __future__ import annotations

import argparse
import io
import json
import time
from pathlib import Path

import numpy as np
from PIL import Image

from deblurgan.blur.apply import blur_image
from deblurgan.blur.frames import average_frames
from deblurgan.blur.kernels import sample_kernels
from deblurgan.blur.psf import tight_crop
from deblurgan.blur.rotation import RotationShake, blur_by_rotation, random_rotation_shake
from deblurgan.blur.scene import SceneMotion, synthesize_scene_pair
from deblurgan.deconv.blur_verdict import kernel_spread
from deblurgan.evaluation.scoring import score
from deblurgan.io.images import read_image
from deblurgan.methods import MethodOptions, build_method
from deblurgan.methods.auto import AutoDeblur
from deblurgan.methods.decision import Evidence, Thresholds, decide

try:
    from shake_sets import camera_noise
except ImportError:  # run from elsewhere than benchmarks/
    from benchmarks.shake_sets import camera_noise

SHARED = Path(__file__).resolve().parents[2] / "shared"
SIZE = (384, 512)
TRAINING_RAW_FRAMES = 80  # GOPR0477's raw frames 1-80 are training data, 81-120 held out
# --long-clips: (frames averaged, first frames) of the longer GoPro averages
LONG_CLIPS = ((17, (0, 8, 16, 24, 32, 40, 48, 56, 63)), (13, (4, 14, 24, 34, 44, 54, 64)))


def training_crop(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random crop of at most :data:`SIZE` of a training photo, RGB float32."""
    image = image[..., :3] if image.ndim == 3 else np.repeat(image[..., None], 3, axis=2)
    h, w = image.shape[:2]
    ch, cw = min(SIZE[0], h), min(SIZE[1], w)
    y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    return image[y : y + ch, x : x + cw].astype(np.float32)


def jpeg_round_trip(rgb: np.ndarray, quality: int) -> np.ndarray:
    """``rgb`` (float in [0, 1]) saved as a JPEG of ``quality`` and read back, as a camera
    or a phone stores its photos.

    Examples:
        >>> x = np.full((16, 16, 3), 0.5, np.float32)
        >>> y = jpeg_round_trip(x, 90)
        >>> y.shape, y.dtype.name, bool(np.abs(y - x).max() < 0.01)
        ((16, 16, 3), 'float32', True)
    """
    encoded = io.BytesIO()
    Image.fromarray(np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8)).save(
        encoded, "JPEG", quality=quality
    )
    return np.asarray(Image.open(encoded), np.float32) / 255


def training_rotation(rng: np.random.Generator, shape: tuple[int, int]) -> RotationShake:
    """A random hand-held rotation for a training photo of ``shape``: 4-14 px of yaw and
    pitch, a roll moving the corners 8-30 px."""
    return random_rotation_shake(rng, shape, float(rng.uniform(4, 14)), float(rng.uniform(8, 30)))


def raw_clip(raw: list[Path], start: int, count: int) -> dict:
    """A GoPro training photo averaged from ``count`` raw frames from ``start`` (0-based),
    the middle frame its sharp photo."""
    frames = [read_image(p).rgb for p in raw[start : start + count]]
    return {
        "kind": "gopro",
        "name": f"raw{start + 1:03d}-{start + count:03d}",
        "blurred": average_frames(frames).astype(np.float32),
        "sharp": frames[count // 2],
    }


def training_photos(
    shared: Path, per_kind: int, seed: int = 0, long_clips: bool = False, jpeg: int = 0
) -> list[dict]:
    """(kind, name, blurred, sharp) for each training photo; with ``jpeg`` (a quality) the
    synthetic photos are stored as JPEGs, as GoPro's frames and real photos are compressed."""
    rng = np.random.default_rng(seed)
    corpus = shared / "data" / "sharp_corpus"
    files = sorted((corpus / "urban100").glob("*")) + sorted((corpus / "bsd100").glob("*"))
    picks = [files[i] for i in rng.choice(len(files), 4 * per_kind, replace=False)]
    photos = []
    for n, path in enumerate(picks):
        sharp = training_crop(read_image(path).rgb, rng)
        kind = ("sharp", "uniform", "rotation", "scene")[n % 4]
        if kind == "sharp":
            blurred = sharp
        elif kind == "uniform":
            length = float(rng.uniform(10, 45))
            kernel = tight_crop(sample_kernels(1, rng, size=64, max_length=length).kernels[0, -1])
            blurred = camera_noise(blur_image(sharp, kernel, linear_light=True), rng)
        elif kind == "rotation":
            blurred = camera_noise(
                blur_by_rotation(sharp, training_rotation(rng, sharp.shape[:2])), rng
            )
        else:
            motion = SceneMotion(objects=(1, 2), still_fraction=0.0)
            pair = synthesize_scene_pair(sharp, rng, motion)
            blurred, sharp = pair.blurred, pair.sharp
        if jpeg:
            blurred = jpeg_round_trip(blurred, jpeg)
        photos.append({"kind": kind, "name": path.stem, "blurred": blurred, "sharp": sharp})
    gopro = shared / "data" / "gopro_pairs"
    held_out = ("frame-198", "frame-659", "frame-792")
    pairs = [
        p
        for p in sorted((gopro / "blur").glob("GOPR0477*"))
        if not any(h in p.name for h in held_out)
    ]
    for path in pairs[:per_kind]:
        photos.append(
            {
                "kind": "gopro",
                "name": path.stem[-20:],
                "blurred": read_image(path).rgb,
                "sharp": read_image(gopro / "sharp" / path.name).rgb,
            }
        )
    raw = sorted((shared / "data" / "gopro_raw240fps" / "GOPR0477_11_00").glob("*.png"))
    raw = raw[:TRAINING_RAW_FRAMES]
    # nine frames every ten, as many as the 80 frames hold (8 clips)
    for start in range(0, min(max(per_kind - len(pairs), 0) * 10, len(raw) - 8), 10):
        photos.append(raw_clip(raw, start, 9))
    if long_clips:
        for count, starts in LONG_CLIPS:
            photos.extend(raw_clip(raw, start, count) for start in starts)
    return photos


def kernel_radius(kernel: np.ndarray) -> float:
    """The root-mean-square distance of a kernel's mass from its centre of mass, in pixels:
    a size that does not move when the same path's mass is shared out differently (round
    20 scored the spread variation on it; docs/auto.md).

    Examples:
        >>> round(kernel_radius(np.full((1, 9), 1 / 9)) ** 2, 6)  # a line: (n^2 - 1) / 12
        6.666667
    """
    mass = np.asarray(kernel, np.float64) / np.sum(kernel)
    y, x = np.indices(mass.shape)
    cy, cx = np.sum(mass * y), np.sum(mass * x)
    return float(np.sqrt(np.sum(mass * ((y - cy) ** 2 + (x - cx) ** 2))))


def outcomes(auto: AutoDeblur, photo: dict) -> dict:
    """The evidence, the decision and every outcome's gain for one photo."""
    blurred, sharp = photo["blurred"], photo["sharp"]
    start = time.perf_counter()
    seen = auto.examine(blurred)
    seconds = time.perf_counter() - start
    base = score(blurred, sharp, align=8)["psnr"]
    row = {
        "kind": photo["kind"],
        "name": photo["name"],
        "decision": seen.decision.outcome,
        "words": seen.decision.words,
        "decide_s": seconds,
        "evidence": seen.evidence.as_dict() if seen.evidence else None,
        "none": 0.0,
        "network": score(auto.network()(blurred), sharp, align=8)["psnr"] - base,
    }
    if seen.extents is not None:  # for pilots of other statistics of the windows' spreads
        row["window_spreads"] = [kernel_spread(k) for k in seen.extents.kernels]
        row["window_radii"] = [kernel_radius(k) for k in seen.extents.kernels]
        row["window_contrasts"] = [float(c) for c in seen.extents.contrast]
    if seen.found.kernel is not None:
        one = auto.blind.deconvolve(blurred, seen.found.kernel, seen.found.gamma)
        row["uniform"] = score(one, sharp, align=8)["psnr"] - base
    if seen.motion is not None:
        varying, _ = auto.remove_varying(blurred, seen)
        row["varying"] = score(varying, sharp, align=8)["psnr"] - base
    return row


def search(rows: list[dict], bounds: list[float]) -> list[dict]:
    """What ``decide`` would gain on ``rows`` (of :func:`outcomes`) with each bound on the
    spread variation: the mean gain per kind and over every blurred photo, and how many
    GoPro photos get one kernel. GoPro photos are counted once (every draw has the same)."""
    seen, blurred = set(), []
    for row in rows:
        if row["kind"] == "sharp" or (row["kind"] == "gopro" and row["name"] in seen):
            continue
        seen.add(row["name"])
        blurred.append(row)
    table = []
    for bound in bounds:
        thresholds = Thresholds(max_spread_variation=bound)
        gains: dict[str, list[float]] = {}
        gopro_one_kernel = 0
        for row in blurred:
            outcome = row["decision"]
            if row["evidence"]:
                outcome = decide(Evidence(**row["evidence"]), thresholds).outcome
            gains.setdefault(row["kind"], []).append(row.get(outcome, 0.0))
            gopro_one_kernel += row["kind"] == "gopro" and outcome == "uniform"
        every = [g for kind in gains.values() for g in kind]
        means = {kind: float(np.mean(g)) for kind, g in gains.items()}
        table.append(
            {
                "bound": bound,
                "mean": float(np.mean(every)),
                **means,
                "gopro_one_kernel": gopro_one_kernel,
            }
        )
    return table


def add_draw_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that say which training photos :func:`training_photos` draws."""
    parser.add_argument("--shared", type=Path, default=SHARED)
    parser.add_argument("--per-kind", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0, help="which draw of synthetic photos")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_draw_arguments(parser)
    parser.add_argument(
        "--long-clips", action="store_true", help="16 more GoPro photos, of larger blur"
    )
    parser.add_argument(
        "--jpeg", type=int, default=0, help="store the synthetic photos as JPEGs of this quality"
    )
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--search", type=Path, nargs="+", help="instead: the bounds' gains on --json files"
    )
    args = parser.parse_args()
    if args.search:
        rows = [row for path in args.search for row in json.loads(path.read_text())]
        for line in search(rows, [0.1, 0.15, 0.16, 0.17, 0.18, 0.19, 0.2, 0.22, 0.25, 0.3, 0.4]):
            print(
                " ".join(
                    f"{k} {v:+.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in line.items()
                )
            )
        return
    options = MethodOptions(precision="fp32", backend="torch")
    auto = AutoDeblur(lambda: build_method("network", options))
    rows = []
    for photo in training_photos(args.shared, args.per_kind, args.seed, args.long_clips, args.jpeg):
        row = outcomes(auto, photo)
        rows.append(row)
        ev = row["evidence"] or {}
        gains = " ".join(
            f"{k} {row[k]:+.2f}" for k in ("uniform", "varying", "network") if k in row
        )
        print(
            f"{row['kind']:8} {row['name'][:20]:20} -> {row['decision']:8} "
            f"sharp {ev.get('sharp_windows', '-')} roll {ev.get('roll', 0):5.1f} "
            f"res {ev.get('residual', 0):.2f} uni {ev.get('uniform_residual', 0):.2f} "
            f"varies {ev.get('spread_variation', 0):.2f} "
            f"spread {ev.get('spread', 0):5.1f} | {gains} | {row['decide_s']:.1f} s",
            flush=True,
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
