"""``l0`` and ``auto`` on camera shake larger than the kernel estimate's side, on TRAINING crops.

Crops of Urban100/BSD100 photos (``sharp_corpus``; never Kodak24, Levin or the report sets),
up to 384x512 as ``benchmarks/auto_calibration.py`` cuts them, blurred in linear light by one
random camera-shake kernel ``--min-length`` to ``--max-length`` pixels long, 1/255 noise.
The automatic kernel side is 31 px at this size, so the longest shakes do not fit it: the
estimate is a squashed, thick path. Per photo it prints the estimate's spread over its side
(:data:`~deblurgan.deconv.blur_verdict.MAX_SPREAD_PER_SIDE` is where ``l0`` calls an estimate a
diffuse failure), what ``l0`` and ``auto`` did, and the PSNR gains (aligned within 8 px)
of ``l0``, of one kernel whatever the verdict, of the network and of ``auto``. Usage:

    python benchmarks/large_shake.py [--shared ../shared] [--photos 16] [--seed 0]
                                     [--min-length 45] [--max-length 160]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from deblurgan.blur.apply import blur_image
from deblurgan.blur.kernels import sample_kernels
from deblurgan.blur.psf import tight_crop
from deblurgan.deconv.blur_verdict import kernel_spread
from deblurgan.evaluation.scoring import score
from deblurgan.io.images import read_image
from deblurgan.methods import MethodOptions, build_method
from deblurgan.methods.auto import AutoDeblur
from deblurgan.methods.decision import NETWORK, NONE, UNIFORM

try:
    from auto_calibration import SHARED, training_crop
    from shake_sets import camera_noise
except ImportError:  # run from elsewhere than benchmarks/
    from benchmarks.auto_calibration import SHARED, training_crop
    from benchmarks.shake_sets import camera_noise

CANVAS = 192  # the kernels are drawn on this square, then cropped to their support


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=SHARED)
    parser.add_argument("--photos", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0, help="which draw of training crops")
    parser.add_argument("--min-length", type=float, default=45.0)
    parser.add_argument("--max-length", type=float, default=160.0)
    args = parser.parse_args()
    rng = np.random.default_rng(500 + args.seed)
    corpus = args.shared / "data" / "sharp_corpus"
    files = sorted((corpus / "urban100").glob("*")) + sorted((corpus / "bsd100").glob("*"))
    options = MethodOptions(precision="fp32", backend="torch")
    auto = AutoDeblur(lambda: build_method("network", options))
    rows = []
    for index in rng.permutation(len(files))[: args.photos]:
        sharp = training_crop(read_image(files[index]).rgb, rng)
        length = float(rng.uniform(args.min_length, args.max_length))
        try:
            kernel = tight_crop(
                sample_kernels(1, rng, size=CANVAS, max_length=length).kernels[0, -1]
            )
        except ValueError as error:  # rare: a long, straight path off the canvas
            print(f"{files[index].stem:10} {length:5.1f} px long: skipped ({error})")
            continue
        blurred = camera_noise(blur_image(sharp, kernel, linear_light=True), rng)
        base = score(blurred, sharp, align=8)["psnr"]

        def gain(image: np.ndarray, base: float = base, sharp: np.ndarray = sharp) -> float:
            return score(image, sharp, align=8)["psnr"] - base

        seen = auto.examine(blurred)  # one estimate serves l0, one kernel and auto
        found = seen.found
        if found.kernel is None:  # nothing could be estimated (a flat crop): unchanged
            one, ratio = 0.0, float("nan")
        else:
            one = gain(auto.blind.deconvolve(blurred, found.kernel, found.gamma))
            ratio = kernel_spread(found.small) / found.small.shape[0]
        network = gain(auto.network()(blurred))
        # auto's result is one of the outcomes measured here (as AutoDeblur.restore makes it)
        chosen = {NONE: 0.0, UNIFORM: one, NETWORK: network}.get(seen.decision.outcome)
        if chosen is None:
            chosen = gain(auto.remove_varying(blurred, seen)[0])
        row = {
            "ratio": ratio,
            "l0": 0.0 if found.note else one,
            "one kernel": one,
            "network": network,
            "auto": chosen,
        }
        rows.append(row)
        print(
            f"{files[index].stem:10} {length:5.1f} px long, estimate spreads {ratio:4.2f} x "
            f"its side, l0: {found.note or 'deconvolved'}; auto: {seen.decision.words} | "
            + " ".join(f"{k} {v:+.2f}" for k, v in row.items() if k != "ratio"),
            flush=True,
        )
    print(
        f"{'mean':10} " + " ".join(f"{k} {np.nanmean([r[k] for r in rows]):.2f}" for k in rows[0])
    )


if __name__ == "__main__":
    main()
