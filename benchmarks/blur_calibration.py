"""Blur extents of real GoPro frames against the dynamic-scene synthesis: one histogram picture.

Real: dense optical flow (OpenCV Farneback) between consecutive 240 fps frames of a
raw GoPro recording, times ``n - 1`` for windows of ``n`` frames drawn like the
GoPro pairs (7-13): how far each pixel travels during a frame-averaged exposure.
Synthetic: the same quantity from the homographies of ``synthesize_scene_pair``
(camera and moving layers) on images of the frames' size.

Usage: python benchmarks/blur_calibration.py [--frames DIR] [--samples N] [-o PNG]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from deblurgan.blur.scene import SceneMotion, blur_extent, synthesize_scene_pair  # noqa: E402
from deblurgan.io.images import read_image  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared"


def real_extents(frames: list[Path], rng: np.random.Generator, step: int = 8) -> np.ndarray:
    """Per-pixel extents (grid of ``step``) of windows of 7-13 frames, from consecutive flows."""
    gray = [
        cv2.cvtColor((read_image(p).rgb * 255).astype(np.uint8), cv2.COLOR_RGB2GRAY) for p in frames
    ]
    flows = [
        cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 4, 21, 3, 5, 1.1, 0)
        for a, b in zip(gray[:-1], gray[1:])
    ]
    extents, start = [], 0
    while True:
        n = int(rng.integers(7, 14))
        if start + n > len(frames):
            break
        # the path of a pixel over the window, approximated by the sum of its flows
        total = np.sum(flows[start : start + n - 1], axis=0)
        extents.append(np.linalg.norm(total[::step, ::step], axis=-1).ravel())
        start += n
    return np.concatenate(extents)


def synthetic_extents(
    shape: tuple[int, int],
    samples: int,
    motion: SceneMotion,
    rng: np.random.Generator,
    step: int = 8,
) -> np.ndarray:
    image = np.zeros((*shape, 1), np.float32)  # the motion does not depend on the content
    return np.concatenate(
        [
            blur_extent(synthesize_scene_pair(image, rng, motion), step).ravel()
            for _ in range(samples)
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--frames", type=Path, default=SHARED / "data" / "gopro_raw240fps" / "GOPR0477_11_00"
    )
    parser.add_argument("--samples", type=int, default=300, help="synthetic samples")
    parser.add_argument(
        "-o", "--output", type=Path, default=Path("docs/blur_extent_calibration.png")
    )
    args = parser.parse_args()
    frames = sorted(args.frames.glob("*.png"))
    real = real_extents(frames, np.random.default_rng(0))
    shape = read_image(frames[0]).rgb.shape[:2]
    motion = SceneMotion()
    synthetic = synthetic_extents(shape, args.samples, motion, np.random.default_rng(0))
    moving = synthetic[synthetic > 0]
    print(f"{'':24}{'median':>8}{'p75':>8}{'p90':>8}{'p99':>8}   (pixels)")
    for name, values in (
        ("real (GoPro 240 fps)", real),
        ("synthetic, moving", moving),
        ("synthetic, all", synthetic),
    ):
        q = np.percentile(values, [50, 75, 90, 99])
        print(f"{name:24}" + "".join(f"{v:8.1f}" for v in q))
    bins = np.linspace(0, max(np.percentile(real, 99.5), np.percentile(synthetic, 99.5)), 60)
    fig, ax = plt.subplots(figsize=(7, 3.6), dpi=110)
    ax.hist(real, bins, density=True, alpha=0.6, label=f"real: {args.frames.name}, 7-13 frames")
    ax.hist(
        synthetic,
        bins,
        density=True,
        alpha=0.6,
        label=f"synthetic: scene blur ({args.samples} samples)",
    )
    ax.set_xlabel("blur extent: pixel travel during the exposure (px, 1280x720)")
    ax.set_ylabel("density")
    ax.set_yscale("log")
    ax.legend()
    fig.tight_layout()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.output)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
