"""Speed of blur synthesis: kernels per second and 720p images blurred per second.

Compares, in one run, our kernels (trajectory + PSFs at the four exposures 1%,
10%, 50%, 100%; compiled with numba, parallel over paths, random numbers drawn
by numpy in two threads) with a literal per-step Python implementation
of Algorithm 1 and a per-point PSF loop, written the way the authors' code
is (scalar random draws each step, one splat per point). Prints a table.

    python benchmarks/blur_speed.py [--kernels 4096] [--literal 20]
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import torch
from timing import best_of  # benchmarks/timing.py

from deblurgan.blur.apply import blur_image
from deblurgan.blur.kernels import sample_kernels

AUTHORS_EXPOSURES = (0.01, 0.1, 0.5, 1.0)  # the authors' code renders these parts of the path


def literal_trajectory(rng: np.random.Generator, steps: int = 2000, max_length: float = 60.0):
    """Algorithm 1 (reference-code preset), one scalar step at a time."""
    expl = rng.choice([0.003, 0.005, 0.007, 0.008, 0.009, 0.01])
    centripetal = 0.7 * rng.uniform()
    prob_big_shake = 0.2 * rng.uniform()
    gaussian_shake = 10 * rng.uniform()
    angle = 2 * math.pi * rng.uniform()
    step = max_length / (steps - 1)
    v = complex(math.cos(angle), math.sin(angle)) * step
    x = np.zeros(steps, dtype=complex)
    for t in range(steps - 1):
        if rng.uniform() < prob_big_shake * expl:
            next_direction = 2 * v * np.exp(1j * (np.pi + (rng.uniform() - 0.5)))
        else:
            next_direction = 0
        dv = (
            next_direction
            + expl
            * (
                gaussian_shake * complex(rng.standard_normal(), rng.standard_normal())
                - centripetal * x[t]
            )
            * step
        )
        v += dv
        v = (v / abs(v)) * step
        x[t + 1] = x[t] + v
    return x


def literal_psfs(x: np.ndarray, size: int = 64, exposures=AUTHORS_EXPOSURES):
    """Per-point bilinear splat of each exposure's part of the path, centred by its mean."""
    psfs = []
    for fraction in exposures:
        count = max(1, round(fraction * len(x)))
        part = x[:count]
        centre = part.mean()
        psf = np.zeros((size, size))
        for point in part:
            px, py = point.real - centre.real + size // 2, point.imag - centre.imag + size // 2
            x0, y0 = math.floor(px), math.floor(py)
            fx, fy = px - x0, py - y0
            psf[y0, x0] += (1 - fx) * (1 - fy)
            psf[y0, x0 + 1] += fx * (1 - fy)
            psf[y0 + 1, x0] += (1 - fx) * fy
            psf[y0 + 1, x0 + 1] += fx * fy
        psfs.append(psf / count)
    return np.stack(psfs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernels", type=int, default=4096, help="kernels per vectorised batch")
    parser.add_argument("--literal", type=int, default=10, help="kernels for the literal loop")
    parser.add_argument("--images", type=int, default=5, help="720p images to blur")
    args = parser.parse_args()
    torch.set_num_threads(torch.get_num_threads())
    rng = np.random.default_rng(0)

    literal_s = best_of(
        lambda: [literal_psfs(literal_trajectory(rng)) for _ in range(args.literal)], 2
    )
    literal_rate = args.literal / literal_s
    sample_kernels(64, rng, exposures=AUTHORS_EXPOSURES)  # warm-up
    ours_s = best_of(lambda: sample_kernels(args.kernels, rng, exposures=AUTHORS_EXPOSURES), 3)
    ours_rate = args.kernels / ours_s

    image = rng.random((720, 1280, 3), dtype=np.float32)
    kernels = sample_kernels(args.images, rng).kernels[:, -1]
    blur_image(image, kernels[0])
    numpy_s = best_of(lambda: [blur_image(image, k) for k in kernels], 2) / args.images

    print(f"threads: {torch.get_num_threads()}")
    print(f"| {'what':58} | {'per second':>11} | {'ms each':>9} | {'vs literal':>10} |")
    print(f"|{'-' * 60}|{'-' * 13}|{'-' * 11}|{'-' * 12}|")
    rows = [
        ("kernels, literal per-step Python (traj + 4 PSFs)", literal_rate, 1.0),
        (
            f"kernels, vectorised numpy, batches of {args.kernels}",
            ours_rate,
            ours_rate / literal_rate,
        ),
    ]
    for name, rate, ratio in rows:
        print(f"| {name:58} | {rate:11.1f} | {1e3 / rate:9.3f} | {ratio:9.0f}x |")
    name = "1280x720 RGB blurred, numpy FFT (reflect borders)"
    print(f"| {name:58} | {1 / numpy_s:11.1f} | {1e3 * numpy_s:9.1f} | {'':>10} |")


if __name__ == "__main__":
    main()
