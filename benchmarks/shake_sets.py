"""Report sets of camera shake made here, on photos never used to tune ``l0`` or ``auto``.

The photos are the colour photos of ``SHARED/data/sharp`` (OpenCV's samples, Set5, set3c,
matplotlib's and scikit-learn's), centre crops of at most 480x640. l0 was tuned on
``sharp_corpus`` crops and ``auto`` calibrated on ``sharp_corpus`` and GOPR0477's training
moments (``benchmarks/auto_calibration.py``), so these are unseen by both.

- ``uniform shake``: each photo blurred in linear light by one of Levin et al.'s eight
  measured camera-shake kernels (in turn), 1/255 noise, 8-bit;
- ``rotational shake``: each photo blurred by a random hand-held camera rotation (yaw,
  pitch and roll of a pinhole camera, rendered in linear light; ``deblurgan.blur.rotation``),
  1/255 noise, 8-bit.

Fixed seeds: the sets are the same on every run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from deblurgan.blur.apply import blur_image
from deblurgan.blur.rotation import blur_by_rotation, random_rotation_shake
from deblurgan.io.images import read_image

CROP = (480, 640)
SUBFOLDERS = ("opencv_doc_samples", "kair_set5", "dpir_set3c", "matplotlib", "sklearn")


def report_photos(shared: Path, limit: int = 12) -> list[tuple[str, np.ndarray]]:
    """Up to ``limit`` colour photos (centre crops), in a fixed order."""
    paths = [
        p
        for sub in SUBFOLDERS
        for p in sorted((shared / "data" / "sharp" / sub).glob("*"))
        if p.suffix.lower() in (".png", ".jpg", ".bmp")
    ]
    photos = []
    for path in paths:
        rgb = read_image(path).rgb
        if rgb.ndim != 3 or min(rgb.shape[:2]) < 200 or np.ptp(rgb[..., 0] - rgb[..., 1]) < 0.05:
            continue  # gray or too small
        h, w = rgb.shape[:2]
        ch, cw = min(CROP[0], h), min(CROP[1], w)
        y, x = (h - ch) // 2, (w - cw) // 2
        photos.append((f"{path.parent.name}/{path.stem}", rgb[y : y + ch, x : x + cw, :3]))
        if len(photos) == limit:
            break
    return photos


def camera_noise(blurred: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    noisy = blurred + rng.normal(0.0, 1.0 / 255, blurred.shape)
    return (np.round(np.clip(noisy, 0.0, 1.0) * 255) / 255).astype(np.float32)


def shake_sets(
    shared: Path, limit: int = 12
) -> dict[str, list[tuple[str, np.ndarray, np.ndarray]]]:
    """Set name -> (key, blurred, sharp) for the uniform and the rotational shake sets."""
    photos = report_photos(shared, limit)
    kernels = np.load(shared / "data" / "kernels" / "Levin09_kernels.npz")
    names = sorted(kernels.files)
    rng = np.random.default_rng(2026)
    uniform, rotational = [], []
    for i, (key, sharp) in enumerate(photos):
        kernel = kernels[names[i % len(names)]].astype(np.float32)
        blurred = camera_noise(blur_image(sharp, kernel / kernel.sum(), linear_light=True), rng)
        uniform.append((f"{key}+{names[i % len(names)]}", blurred, sharp))
        shake = random_rotation_shake(
            rng, sharp.shape[:2], float(rng.uniform(6, 14)), float(rng.uniform(15, 30))
        )
        rotational.append((key, camera_noise(blur_by_rotation(sharp, shake), rng), sharp))
    return {"(f) uniform shake": uniform, "(g) rotational shake": rotational}
