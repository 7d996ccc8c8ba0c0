"""Where ``auto``'s path for blur that varies loses, on TRAINING photos of hand-held rotation.

Crops of Urban100/BSD100 photos (``sharp_corpus``; never Kodak24, Levin or the report sets)
blurred by a random camera rotation as ``benchmarks/auto_calibration.py`` makes them (in
linear light, 1/255 noise). Per photo it prints the PSNR gain (aligned within 8 px) of:

- ``one kernel``: ``l0``'s deconvolution;
- ``true tiles``: the tiles of the varying path, each deconvolved with its TRUE kernel;
- ``true fit``: the camera motion fitted to the TRUE kernels at the 3x3 windows' centres;
- ``blind``: the motion fitted to the windows' blind kernels, as ``auto`` does;

and the windows' blind kernels against the true ones there: their mean spread (px) and
their agreement (shift-invariant normalised correlation). The gap between ``true fit`` and
``blind`` is the estimate's; the gap between ``true tiles`` and ``true fit`` the motion
model's. ``--figure`` draws the first photos' window kernels, blind beside true. Usage:

    python benchmarks/varying_kernels.py [--shared ../shared] [--photos 6] [--seed 0]
                                         [--figure docs/varying_kernels.png]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

from deblurgan.blur.rotation import (
    RotationShake,
    blur_by_rotation,
    local_kernel,
)
from deblurgan.deconv.blur_verdict import kernel_spread
from deblurgan.deconv.kernel_shape import centre_kernel_subpixel, crop_to_support
from deblurgan.deconv.motion_fit import fit_inplane_motion
from deblurgan.deconv.nonuniform import (
    MAX_DATA_WEIGHT,
    deconvolve_varying,
    local_kernels,
    varying_grid,
)
from deblurgan.deconv.preprocess import from_linear, to_linear
from deblurgan.deconv.tiles import deconvolve_tiles
from deblurgan.evaluation.scoring import score
from deblurgan.io.images import read_image
from deblurgan.methods.auto import AutoDeblur
from deblurgan.methods.decision import kernel_agreement

try:
    from auto_calibration import SHARED, training_crop, training_rotation
    from shake_sets import camera_noise
except ImportError:  # run from elsewhere than benchmarks/
    from benchmarks.auto_calibration import SHARED, training_crop, training_rotation
    from benchmarks.shake_sets import camera_noise

CANVAS = 81  # the true kernels are rendered this large, then centred and cropped
LARGEST = 61  # the true tiles' kernels are cropped to their support within this side
FIGURE_ROWS = 3  # photos drawn by --figure


def true_kernel(
    shake: RotationShake, shape: tuple[int, int], point: tuple[float, float], size: int
) -> np.ndarray:
    """The rotation's kernel at ``point`` = (y, x), ``size`` a side (``local_kernel``
    centres it on its centre of mass)."""
    canvas = max(CANVAS, 2 * size + 1)
    kernel = local_kernel(shake, shape, point, canvas)
    centre, reach = canvas // 2, size // 2
    kernel = kernel[centre - reach : centre + reach + 1, centre - reach : centre + reach + 1]
    return (kernel / kernel.sum()).astype(np.float32)


def measure(
    auto: AutoDeblur, sharp: np.ndarray, blurred: np.ndarray, shake: RotationShake
) -> tuple[dict[str, float], list[tuple[np.ndarray, np.ndarray]]]:
    """Every gain and the windows' kernels against the truth, for one photo; and the
    windows' (blind, true) kernels."""
    height, width = sharp.shape[:2]
    base = score(blurred, sharp, align=8)["psnr"]

    def gain(image: np.ndarray) -> float:
        return score(image, sharp, align=8)["psnr"] - base

    options = auto.blind.options  # the final step as auto's varying path runs it
    found = auto.blind.estimate(blurred)
    gamma = found.gamma
    finish = {"suppress_ringing": options.suppress_ringing, "exponent": options.prior_exponent}
    linear = to_linear(blurred, gamma)
    weight = auto.blind.data_weight(linear)
    row = {"one kernel": gain(auto.blind.deconvolve(blurred, found.kernel, found.gamma))}

    tiles, _ = varying_grid(height, width, LARGEST)
    side = max(crop_to_support(true_kernel(shake, (height, width), t.centre, LARGEST)).shape[0]
               for t in tiles)  # fmt: skip
    tiles, overlap = varying_grid(height, width, side)
    kernels = [true_kernel(shake, (height, width), t.centre, side) for t in tiles]
    tiled = deconvolve_tiles(
        linear, tiles, kernels, min(weight, MAX_DATA_WEIGHT), overlap, gamma=gamma, **finish
    )
    row["true tiles"] = gain(from_linear(tiled, gamma))

    local = local_kernels(found.gray, found.small, found.reliable)
    scale = local.scale * found.scale
    size = local.kernels[0].shape[0]
    truth = []
    for py, px in local.points:  # the windows' centres at full resolution, then reduced
        point = (py / scale + (height - 1) / 2, px / scale + (width - 1) / 2)
        big = true_kernel(shake, (height, width), point, int(round(size / scale)) | 1)
        if scale < 1:
            big = cv2.resize(big, (size, size), interpolation=cv2.INTER_AREA)
            big = centre_kernel_subpixel(big / big.sum())
        truth.append(big)
    for name, window_kernels in (("true fit", truth), ("blind", local.kernels)):
        motion = fit_inplane_motion(window_kernels, local.points)
        sharpened, _, _ = deconvolve_varying(
            linear, motion, scale, size, weight, gamma=gamma, **finish
        )
        row[name] = gain(from_linear(sharpened, gamma))
    row["true spread"] = float(np.mean([kernel_spread(k) for k in truth]))
    row["blind spread"] = float(np.mean([kernel_spread(k) for k in local.kernels]))
    row["agreement"] = float(
        np.mean([kernel_agreement(a, b) for a, b in zip(local.kernels, truth)])
    )
    return row, list(zip(local.kernels, truth))


def figure(rows: list[tuple[str, list[tuple[np.ndarray, np.ndarray]]]], path: Path) -> None:
    """One row per photo: every window's blind kernel beside its true one, each scaled to
    its own peak (square root, so faint parts show)."""
    cell, zoom, pad, label = 31, 3, 6, 90
    side = cell * zoom
    columns = max(len(pairs) for _, pairs in rows)
    sheet = Image.new(
        "L", (label + columns * (2 * side + 3 * pad), len(rows) * (side + pad) + 16), 40
    )
    draw = ImageDraw.Draw(sheet)
    draw.text((label, 2), "each window: blind (left), TRUE (right)", fill=255)
    for r, (name, pairs) in enumerate(rows):
        top = 16 + r * (side + pad)
        draw.text((4, top + side // 2 - 6), name, fill=255)
        for c, pair in enumerate(pairs):
            for k, kernel in enumerate(pair):
                canvas = np.zeros((cell, cell), np.float32)
                reach = min(kernel.shape[0], cell) // 2
                middle, centre = kernel.shape[0] // 2, cell // 2
                canvas[centre - reach : centre + reach + 1, centre - reach : centre + reach + 1] = (
                    kernel[middle - reach : middle + reach + 1, middle - reach : middle + reach + 1]
                )
                pixels = (255 * np.sqrt(canvas / max(float(canvas.max()), 1e-12))).astype(np.uint8)
                tile = Image.fromarray(pixels).resize((side, side), Image.NEAREST)
                sheet.paste(tile, (label + c * (2 * side + 3 * pad) + k * (side + pad), top))
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=SHARED)
    parser.add_argument("--photos", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0, help="which draw of training photos")
    parser.add_argument("--figure", type=Path, help="draw the first photos' window kernels")
    args = parser.parse_args()
    rng = np.random.default_rng(100 + args.seed)
    corpus = args.shared / "data" / "sharp_corpus"
    files = sorted((corpus / "urban100").glob("*")) + sorted((corpus / "bsd100").glob("*"))
    auto = AutoDeblur(network=lambda: None)  # never used: no decision is taken here
    rows, drawn = [], []
    for index in rng.permutation(len(files))[: args.photos]:  # more photos: the same first ones
        sharp = training_crop(read_image(files[index]).rgb, rng)
        shake = training_rotation(rng, sharp.shape[:2])
        blurred = camera_noise(blur_by_rotation(sharp, shake), rng)
        row, pairs = measure(auto, sharp, blurred, shake)
        rows.append(row)
        if len(drawn) < FIGURE_ROWS:
            drawn.append((files[index].stem, pairs))
        print(f"{files[index].stem:12} " + " ".join(f"{k} {v:+.2f}" for k, v in row.items()),
              flush=True)  # fmt: skip
    print(f"{'mean':12} " + " ".join(
        f"{k} {np.mean([r[k] for r in rows]):.2f}" for k in rows[0]
    ))  # fmt: skip
    if args.figure:
        figure(drawn, args.figure)
        print(f"figure: {args.figure}")


if __name__ == "__main__":
    main()
