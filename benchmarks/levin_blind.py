"""Blind deconvolution on Levin et al. 2009 (all 32 images): one table of PSNR / SSIM for the
blurred input, ``--method l0`` (blind), non-blind deconvolution with the TRUE kernel (Wiener,
Richardson-Lucy, hyper-Laplacian) and the bundled network, plus Levin et al.'s kernel error
ratio: the error of the l0 output over the error of the same non-blind deconvolution given
the true kernel (1 is a perfect kernel; Levin et al. count ratios at or below 3 as good).

Scores are RGB PSNR/SSIM after compensating integer shifts up to 8 px (the blurred and sharp
images are offset, and a blind method cannot know the kernel's origin), as ``deblurgan
evaluate`` does for this set. Usage:

    python benchmarks/levin_blind.py [--shared ../shared] [--json OUT.json] [--no-network]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from deblurgan.data.eval_sets import find_eval_items
from deblurgan.deconv.blind import BlindDeconvolution
from deblurgan.evaluation.scoring import nonblind_references, oriented_kernel, score
from deblurgan.evaluation.subpixel import subpixel_aligned_psnr
from deblurgan.io.images import read_image
from deblurgan.methods import MethodOptions, build_method

SHARED = Path(__file__).resolve().parents[2] / "shared"
GOOD_RATIO = 3.0


def levin_rows(shared: Path, network: bool) -> list[dict]:
    items, layout = find_eval_items(shared / "data" / "levin2009")
    if layout != "levin":
        raise SystemExit(f"{shared}/data/levin2009 is not the Levin layout")
    blind = BlindDeconvolution()
    net = network and build_method("network", MethodOptions(precision="fp32", backend="torch"))
    rows = []
    for item in items:
        blurred, sharp = read_image(item.blurred).rgb, read_image(item.sharp).rgb
        kernel = oriented_kernel(read_image(item.kernel).rgb.mean(axis=2), blurred, sharp)
        start = time.perf_counter()
        restored = blind.restore(blurred)
        seconds = time.perf_counter() - start
        outputs = {
            "blurred": blurred,
            "l0 (blind)": restored.rgb,
            **{f"{k} (true kernel)": v for k, v in nonblind_references(blurred, kernel).items()},
        }
        if network:
            outputs["network (bundled)"] = net(blurred)
        scores = {name: score(image, sharp, align=8) for name, image in outputs.items()}
        subpixel = {
            name: subpixel_aligned_psnr(outputs[name], sharp)[0]
            for name in ("blurred", "l0 (blind)")
        }
        l0_mse = 10 ** (-scores["l0 (blind)"]["psnr"] / 10)
        true_mse = 10 ** (-scores["hyper_laplacian (true kernel)"]["psnr"] / 10)
        rows.append(
            {
                "key": item.key,
                "seconds": seconds,
                "note": restored.note,
                "error_ratio": l0_mse / true_mse,
                "subpixel_blurred": subpixel["blurred"],
                "subpixel_l0": subpixel["l0 (blind)"],
                **{f"{n}_psnr": s["psnr"] for n, s in scores.items()},
                **{f"{n}_ssim": s["ssim"] for n, s in scores.items()},
            }
        )
        print(
            f"{item.key:18} l0 {scores['l0 (blind)']['psnr']:6.2f} dB "
            f"(input {scores['blurred']['psnr']:.2f}) ratio {rows[-1]['error_ratio']:5.2f} "
            f"{seconds:5.2f} s {restored.note or ''}",
            flush=True,
        )
    return rows


def print_table(rows: list[dict]) -> None:
    names = [k.removesuffix("_psnr") for k in rows[0] if k.endswith("_psnr")]
    base = np.mean([r["blurred_psnr"] for r in rows])
    print(f"\n{'method':32}{'PSNR':>8}{'SSIM':>8}{'gain':>8}")
    for name in names:
        psnr = np.mean([r[f"{name}_psnr"] for r in rows])
        ssim = np.mean([r[f"{name}_ssim"] for r in rows])
        gain = f"{psnr - base:+8.2f}" if name != "blurred" else ""
        print(f"{name:32}{psnr:8.2f}{ssim:8.3f}{gain:>8}")
    ratios = np.array([r["error_ratio"] for r in rows])
    gains = {}
    for r in rows:
        kernel = r["key"].split("_")[-1]
        gains.setdefault(kernel, []).append(
            (r["l0 (blind)_psnr"] - r["blurred_psnr"], r["subpixel_l0"] - r["subpixel_blurred"])
        )
    print(f"\n{'kernel':10}{'l0 gain, integer align':>24}{'sub-pixel (Levin)':>20}")
    for kernel, values in sorted(gains.items()):
        integer, sub = np.mean(values, axis=0)
        print(f"{kernel:10}{integer:+24.2f}{sub:+20.2f}")
    every = np.array([v for values in gains.values() for v in values])
    print(f"{'all':10}{every[:, 0].mean():+24.2f}{every[:, 1].mean():+20.2f}")
    print(
        f"\nl0 kernel error ratio: median {np.median(ratios):.2f}, "
        f"{np.mean(ratios <= GOOD_RATIO):.0%} of {len(ratios)} at or below {GOOD_RATIO:g}; "
        f"{np.mean([r['seconds'] for r in rows]):.2f} s per 255x255 image"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=SHARED)
    parser.add_argument("--json", type=Path, help="also write the rows as JSON")
    parser.add_argument("--no-network", action="store_true", help="leave the network out")
    args = parser.parse_args()
    rows = levin_rows(args.shared, not args.no_network)
    print_table(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
