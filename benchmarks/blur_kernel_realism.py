"""Which trajectory preset looks like real camera shake? Kernels vs Levin et al. (2009).

Samples kernels with each preset (exposure drawn from 10%, 50%, 100% as the
synth command does) and compares simple shape statistics with the 8 real
camera-shake kernels recorded by Levin et al.:

- support90: pixels needed to hold 90% of the mass (size of the blur);
- radius: radius of gyration, sqrt of the trace of the mass covariance (px);
- elongation: 1 - lambda_min / lambda_max of that covariance (0 = round, 1 = a line),
  a proxy for how straight the path is.

Prints a table of medians (and the log-distance of each preset's medians to
Levin's) and writes a picture of kernels side by side.

    python benchmarks/blur_kernel_realism.py [--n 400] [--figure docs/kernels_vs_levin.png]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from deblurgan.blur.kernels import sample_kernels
from deblurgan.blur.trajectory import PRESETS

LEVIN = (
    Path(__file__).resolve().parents[1].parent
    / "shared"
    / "data"
    / "kernels"
    / "Levin09_kernels.npz"
)
EXPOSURES = (0.1, 0.5, 1.0)


def kernel_statistics(kernel: np.ndarray) -> dict[str, float]:
    """support90, radius and elongation of one kernel (any size, any total mass)."""
    k = np.clip(kernel, 0, None) / np.clip(kernel, 0, None).sum()
    mass = np.sort(k.ravel())[::-1]
    support90 = int(np.searchsorted(np.cumsum(mass), 0.9) + 1)
    ys, xs = np.mgrid[: k.shape[0], : k.shape[1]]
    my, mx = (k * ys).sum(), (k * xs).sum()
    cov = np.array(
        [
            [(k * (xs - mx) ** 2).sum(), (k * (xs - mx) * (ys - my)).sum()],
            [(k * (xs - mx) * (ys - my)).sum(), (k * (ys - my) ** 2).sum()],
        ]
    )
    low, high = np.linalg.eigvalsh(cov)
    return {
        "support90": support90,
        "radius": float(np.sqrt(low + high)),
        "elongation": float(1 - low / high) if high > 0 else 0.0,
    }


def sampled(preset: str, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    batch = sample_kernels(n, rng, preset, exposures=EXPOSURES)
    choice = rng.integers(len(EXPOSURES), size=n)
    return batch.kernels[np.arange(n), choice]


def _tile(kernel: np.ndarray, side: int = 64, zoom: int = 2) -> Image.Image:
    canvas = np.zeros((side, side))
    h, w = min(side, kernel.shape[0]), min(side, kernel.shape[1])
    cy, cx = kernel.shape[0] // 2, kernel.shape[1] // 2
    crop = kernel[cy - h // 2 : cy - h // 2 + h, cx - w // 2 : cx - w // 2 + w]
    canvas[
        side // 2 - h // 2 : side // 2 - h // 2 + h, side // 2 - w // 2 : side // 2 - w // 2 + w
    ] = crop
    pixels = (255 * np.sqrt(canvas / canvas.max())).astype(np.uint8)  # sqrt: faint tails visible
    return Image.fromarray(pixels).resize((side * zoom, side * zoom), Image.NEAREST)


def figure(rows: dict[str, list[np.ndarray]], path: Path) -> None:
    cell, label_w, pad = 128, 150, 4
    columns = max(len(r) for r in rows.values())
    sheet = Image.new("L", (label_w + columns * (cell + pad), len(rows) * (cell + pad)), 40)
    draw = ImageDraw.Draw(sheet)
    for r, (label, kernels) in enumerate(rows.items()):
        draw.text((6, r * (cell + pad) + cell // 2 - 6), label, fill=255)
        for c, kernel in enumerate(kernels):
            sheet.paste(_tile(kernel), (label_w + c * (cell + pad), r * (cell + pad)))
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400, help="kernels per preset")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--figure", type=Path, default=Path("docs/kernels_vs_levin.png"))
    args = parser.parse_args()
    levin = [v for _, v in sorted(np.load(LEVIN).items(), key=lambda kv: int(kv[0][1:]))]
    groups = {"Levin 2009 (real)": levin}
    groups.update({f"{p} preset": list(sampled(p, args.n, args.seed)) for p in PRESETS})
    medians = {
        name: {
            s: float(np.median([kernel_statistics(k)[s] for k in ks]))
            for s in ("support90", "radius", "elongation")
        }
        for name, ks in groups.items()
    }
    real = medians["Levin 2009 (real)"]
    print(f"| {'kernels':22} | support90 (px) | radius (px) | elongation | log-distance to Levin |")
    print(f"|{'-' * 24}|----------------|-------------|------------|-----------------------|")
    for name, m in medians.items():
        distance = np.sqrt(sum(np.log(m[s] / real[s]) ** 2 for s in m))
        print(
            f"| {name:22} | {m['support90']:14.0f} | {m['radius']:11.2f} | {m['elongation']:10.2f} "
            f"| {distance:21.2f} |"
        )
    figure({name: ks[:8] for name, ks in groups.items()}, args.figure)
    print(f"figure: {args.figure}")


if __name__ == "__main__":
    main()
