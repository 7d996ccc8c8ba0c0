"""The training crops ``--method l0``'s settings are chosen on, and a table of what settings
gain on them (never Levin, Kodak24 or the report sets: those are measured after a choice).

The crops: 36 of 255x255 px from ``sharp_corpus`` (Urban100, BSD100, McMaster18; never
Kodak24), a third each blurred by camera-shake kernels extending 7-13, 14-21 and 22-33 px
(``deblurgan.blur.sample_kernels``), half in linear light and half on the encoded values,
1/255 noise, 8-bit; all from one seed, so every run scores the same crops. Each setting is
scored by the PSNR gain over the blurred input after integer alignment within 8 px, as
``deblurgan evaluate --align 8``: the mean, the worst crop, by kernel size and by how the
blur was made. Usage:

    python benchmarks/l0_training.py [--shared ../shared] [--settings default size35 ...]
                                     [--seeds 7 11] [--speed-variation 1.0]

Each seed draws another 36 crops (seed 7 alone is the set of the tables in
docs/blind_deconvolution.md). Every setting after the first is also compared with the first
crop by crop: the mean difference and its standard error, and how many crops gained or lost
more than 0.05 dB. ``default`` is today's ``l0`` (round 11: one estimate at two gammas);
``round10`` round 10's (a pair of estimates on the encoded values), and the settings of
rounds 3-10 are changes of it: ``round5`` its two estimates and final step of round 5;
``round6`` without the result registered to the blur's centre of mass (round 7);
``exponent0.8`` the final step's prior exponent 0.8; ``plain`` without ringing
suppression; ``sparsity`` the pair chosen by the sparsity of their results (round 9);
``size35`` a 35 px start; ``rounds12``, ``falling``, ``subpixel`` and ``weight4e-3``
single estimates. Round 11's: ``gamma2.2`` round 10's pair in linear light alone,
``pair-gammas`` today's choice of gamma followed by that pair, ``normalised`` today's with
the luminance's contrast stretched. Round 15's: ``--speed-variation 1.0`` draws kernels
whose hand speed varies during the exposure (``sample_kernels(speed_variation=...)``: faint
tails, as measured camera shake has); ``floorF`` keeps each round's kernel values down to F
of the peak (0.05: before round 15; 0.01 today), ``pieceP`` pieces down to P of the mass
(``floorF-piece0.05`` both), ``l1-W`` the kernel step's L1 weight W.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from deblurgan.blur.apply import blur_image
from deblurgan.blur.kernels import sample_kernels
from deblurgan.deconv.blind import BlindDeconvolution, BlindSettings
from deblurgan.deconv.kernel_estimation import EstimationSettings
from deblurgan.evaluation.scoring import score
from deblurgan.io.images import read_image

SHARED = Path(__file__).resolve().parents[2] / "shared"
SIDE = 255
REPORTED = ((0, 14), (14, 22), (22, 99))  # kernel sides in the table: small, mid, large
BUCKETS = ((7, 14), (14, 22), (22, 34))  # kernel extents drawn: small, mid, large

FALLING = EstimationSettings(weight=8e-3, finest_weight=1e-3)  # the falling L0 weight
# round 10's l0 (rounds 6-10): a pair of estimates (12 rounds a level, and the falling
# weight) on the encoded values; the settings of rounds 3-10 are measured against it
ROUND10 = BlindSettings(
    estimation=EstimationSettings(iterations=12), alternatives=(FALLING,), gammas=(1.0,)
)


def _round10(**changes: object) -> Callable[[], BlindDeconvolution]:
    return lambda: BlindDeconvolution(settings=dataclasses.replace(ROUND10, **changes))


def _alone(estimation: EstimationSettings) -> Callable[[], BlindDeconvolution]:
    """One estimate on the encoded values."""
    return _round10(estimation=estimation, alternatives=())


SETTINGS: dict[str, Callable[[], BlindDeconvolution]] = {
    "default": lambda: BlindDeconvolution(),
    "size35": lambda: BlindDeconvolution(kernel_size=35, settings=ROUND10),
    "subpixel": _alone(EstimationSettings(recentre="level")),
    "weight4e-3": _alone(EstimationSettings(weight=4e-3)),
    "rounds12": _alone(EstimationSettings(iterations=12)),
    "falling": _alone(FALLING),
    "round5": _round10(  # round 5's pair of estimates and final step
        estimation=EstimationSettings(),
        alternatives=(EstimationSettings(iterations=12),),
        suppress_ringing=False,
        register_to_centroid=False,
    ),
    "round6": _round10(register_to_centroid=False),  # before round 7's registration
    "plain": _round10(suppress_ringing=False),
    "sparsity": _round10(choice="sparsity"),  # the pair chosen by their results' sparsity
    "exponent0.8": _round10(prior_exponent=0.8),  # the final step's prior exponent 0.8
    "round10": _round10(),
    "gamma2.2": _round10(gammas=(2.2,)),  # round 10's pair in linear light alone
    "pair-gammas": _round10(gammas=(1.0, 2.2)),  # the gamma chosen by the second estimate
    "normalised": lambda: BlindDeconvolution(settings=BlindSettings(normalise=True)),
}


def _today_with(**changes: object) -> Callable[[], BlindDeconvolution]:
    """Today's ``l0`` with its estimate's settings changed."""
    estimation = dataclasses.replace(BlindSettings().estimation, **changes)
    return lambda: BlindDeconvolution(settings=BlindSettings(estimation=estimation))


# round 15: each round's kernel cleaned at another floor, pieces or L1 weight
for _floor in (0.05, 0.03, 0.02, 0.01, 0.005, 0.0):
    SETTINGS[f"floor{_floor}"] = _today_with(floor=_floor)
    SETTINGS[f"floor{_floor}-piece0.05"] = _today_with(floor=_floor, min_piece=0.05)
for _piece in (0.05, 0.02):
    SETTINGS[f"piece{_piece}"] = _today_with(min_piece=_piece)
for _l1 in (0.001, 0.0):
    SETTINGS[f"l1-{_l1}"] = _today_with(sparsity=_l1)


def _kernel_bank(
    rng: np.random.Generator, speed_variation: float = 0.0
) -> list[tuple[int, np.ndarray]]:
    """400 kernels of the package's synthesis, of lengths 15-60: (extent, kernel), the
    extent being the side of the box holding the values above 1% of the peak, the kernel
    cropped to a square about the canvas centre holding all of it."""
    bank = []
    # a hand that dwells moves the centre of mass towards where it dwelt: a larger canvas
    # (the same kernels, so the same crops, on either canvas)
    size = 128 if speed_variation else 64
    centre = size // 2
    for length in (15, 25, 35, 45, 60):
        for kernel in sample_kernels(
            80, rng, size=size, max_length=length, speed_variation=speed_variation
        ).kernels[:, -1]:
            ys, xs = np.nonzero(kernel > 0.01 * kernel.max())
            extent = int(max(ys.max() - ys.min(), xs.max() - xs.min())) + 1
            ys, xs = np.nonzero(kernel > 0)
            reach = int(max(np.abs(ys - centre).max(), np.abs(xs - centre).max()))
            crop = kernel[centre - reach : centre + reach + 1, centre - reach : centre + reach + 1]
            bank.append((extent, (crop / crop.sum()).astype(np.float32)))
    return bank


def training_crops(
    shared: Path, count: int = 36, seed: int = 7, speed_variation: float = 0.0
) -> list[dict]:
    """The blurred/sharp training crops, with their kernel side and how they were blurred
    (``speed_variation``: the kernels' hand speed varies, :func:`sample_kernels`)."""
    rng = np.random.default_rng(seed)
    corpus = shared / "data" / "sharp_corpus"
    files = sorted(p for d in ("urban100", "bsd100", "mcmaster18") for p in (corpus / d).glob("*"))
    bank = _kernel_bank(rng, speed_variation)
    buckets = [[k for extent, k in bank if lo <= extent < hi] for lo, hi in BUCKETS]
    crops = []
    for i, pick in enumerate(rng.choice(len(files), count, replace=False)):
        rgb = read_image(files[pick]).rgb.astype(np.float32)
        rgb = np.repeat(rgb[..., None], 3, 2) if rgb.ndim == 2 else rgb[..., :3]
        y = int(rng.integers(0, rgb.shape[0] - SIDE + 1))
        x = int(rng.integers(0, rgb.shape[1] - SIDE + 1))
        sharp = rgb[y : y + SIDE, x : x + SIDE]
        bucket = buckets[i % len(buckets)]
        kernel = bucket[int(rng.integers(len(bucket)))]
        linear = i % 2 == 0
        blurred = blur_image(sharp, kernel, linear_light=linear)
        blurred = np.round(np.clip(blurred + rng.normal(0, 1 / 255, blurred.shape), 0, 1) * 255)
        crops.append(
            {
                "sharp": sharp,
                "blurred": (blurred / 255).astype(np.float32),
                "side": kernel.shape[0],
                "linear": linear,
            }
        )
    return crops


def gains(method: BlindDeconvolution, crops: list[dict]) -> np.ndarray:
    """PSNR gain of ``method`` over each blurred crop (integer alignment within 8 px)."""
    out = []
    for crop in crops:
        before = score(crop["blurred"], crop["sharp"], align=8)["psnr"]
        out.append(score(method(crop["blurred"]), crop["sharp"], align=8)["psnr"] - before)
    return np.array(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=SHARED)
    parser.add_argument("--settings", nargs="+", default=["default"], choices=list(SETTINGS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[7])
    parser.add_argument("--speed-variation", type=float, default=0.0)
    args = parser.parse_args()
    crops = [
        crop
        for seed in args.seeds
        for crop in training_crops(args.shared, seed=seed, speed_variation=args.speed_variation)
    ]
    sides = np.array([c["side"] for c in crops])
    linear = np.array([c["linear"] for c in crops])
    print(
        f"{'setting':12} {'mean':>6} {'worst':>6} {'small':>6} {'mid':>6} {'large':>6} "
        f"{'linear':>6} {'encoded':>7} {'s/crop':>6} {'vs first (s.e.)':>16} {'+/-':>7}"
    )
    first = None
    for name in args.settings:
        start = time.perf_counter()
        g = gains(SETTINGS[name](), crops)
        seconds = (time.perf_counter() - start) / len(crops)
        by_size = [g[(sides >= lo) & (sides < hi)].mean() for lo, hi in REPORTED]
        first = g if first is None else first
        print(
            f"{name:12} {g.mean():+6.2f} {g.min():+6.2f} {by_size[0]:+6.2f} {by_size[1]:+6.2f} "
            f"{by_size[2]:+6.2f} {g[linear].mean():+6.2f} {g[~linear].mean():+7.2f} "
            f"{seconds:6.1f} {paired(g, first)}",
            flush=True,
        )


def paired(gains: np.ndarray, first: np.ndarray) -> str:
    """``gains`` against ``first``, crop by crop: the mean difference (its standard
    error) and the crops that gained / lost more than 0.05 dB."""
    if gains is first or len(gains) < 2:
        return ""
    d = gains - first
    error = d.std(ddof=1) / np.sqrt(len(d))
    return f"{d.mean():+9.2f} ({error:.2f}) {np.sum(d > 0.05):3d}/{np.sum(d < -0.05):<3d}"


if __name__ == "__main__":
    main()
