"""Speed of the dynamic-scene blur synthesis: the warp implementations, and samples per second.

Prints, for one 256x256 crop (synthesised on 384x384 with the training margin):
the time of one homography warp with OpenCV ``warpPerspective``, SciPy
``map_coordinates`` and torch ``grid_sample`` (single thread, bilinear,
float32 RGB), and full ``synthetic_pair`` samples per second on one core in
the scene mode with all camera effects. Compare the last with the training
step's need: batch size / seconds per step (``benchmarks/train_speed.py``).

Usage: python benchmarks/scene_blur_speed.py [--repeats N]
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from scipy.ndimage import map_coordinates
from timing import best_of  # benchmarks/timing.py

from deblurgan.blur.camera import CameraEffects
from deblurgan.blur.scene import SceneMotion
from deblurgan.data.recipe import BlurSettings, synthetic_pair


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    side = 384
    image = np.random.default_rng(0).random((side, side, 3), dtype=np.float32)
    h = np.array([[1.0, 0.01, 2.3], [-0.01, 1.0, -1.7], [1e-5, 0, 1]])
    inverse = np.linalg.inv(h)
    ys, xs = np.mgrid[0:side, 0:side].astype(np.float64)
    src = np.stack([xs, ys, np.ones_like(xs)], -1) @ inverse.T
    sx, sy = src[..., 0] / src[..., 2], src[..., 1] / src[..., 2]
    grid = torch.from_numpy(np.stack([sx / (side - 1) * 2 - 1, sy / (side - 1) * 2 - 1], -1))
    grid = grid[None].float()
    tensor = torch.from_numpy(image).permute(2, 0, 1)[None]
    warps = {
        "OpenCV warpPerspective": lambda: cv2.warpPerspective(
            image, h, (side, side), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101
        ),
        "SciPy map_coordinates": lambda: np.stack(
            [map_coordinates(image[..., c], [sy, sx], order=1, mode="mirror") for c in range(3)], -1
        ),
        "torch grid_sample": lambda: F.grid_sample(
            tensor, grid, mode="bilinear", padding_mode="reflection", align_corners=True
        ),
    }
    base = None
    print(f"one {side}x{side} RGB warp, 1 thread, best of {args.repeats}")
    for name, fn in warps.items():
        seconds = best_of(fn, args.repeats)
        base = base or seconds
        print(f"  {name:26}{seconds * 1000:8.2f} ms  {seconds / base:6.1f}x OpenCV's time")
    settings = BlurSettings.only(
        "scene",
        scene=SceneMotion(still_fraction=0.0),
        effects=CameraEffects(1.0, noise_probability=1.0, jpeg_probability=1.0),
    )
    sources = (np.random.default_rng(1).random((500, 500, 3), dtype=np.float32),)
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    count = 4 * args.repeats
    for _ in range(count):
        synthetic_pair(image, settings, rng, lambda: sources)
    rate = count / (time.perf_counter() - start)
    print(
        f"scene-mode samples (all effects, 0-2 layers, 7-13 sub-frames): {rate:.1f} / s on one core"
    )


if __name__ == "__main__":
    main()
