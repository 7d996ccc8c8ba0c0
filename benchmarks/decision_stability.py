"""How stable ``--method auto``'s decision is when its input moves by float32 rounding.

The L0 kernel estimate is chaotic (docs/blind_deconvolution.md): another CPU's arithmetic
(its FFTs, its vector width) moves the estimate, and with it the evidence
:class:`~deblurgan.methods.decision.Evidence`, as much as a change of the input in its last
bits does. This benchmark measures how much: each of ``auto_calibration``'s TRAINING photos
is examined as it is and ``--repeats`` times more with every pixel multiplied by
``1 + size * n`` (``n`` standard normal, a fixed generator per repeat), and the table shows
the decision and the spread variation each time. A threshold closer to a photo's values
than their swing decides that photo by chance, so the swing is the margin a threshold needs.

    python benchmarks/decision_stability.py [--shared ../shared] [--per-kind 8] [--seed 0]
                                            [--kinds uniform gopro] [--repeats 3]
"""

from __future__ import annotations

import argparse

import numpy as np

from deblurgan.methods.auto import AutoDeblur
from deblurgan.methods.decision import Thresholds

try:
    from auto_calibration import add_draw_arguments, training_photos
except ImportError:  # run from elsewhere than benchmarks/
    from benchmarks.auto_calibration import add_draw_arguments, training_photos


def perturbed(rgb: np.ndarray, size: float, rng: np.random.Generator) -> np.ndarray:
    """``rgb`` with every value multiplied by ``1 + size * n``, ``n`` standard normal (kept
    in [0, 1], float32).

    Examples:
        >>> x = np.full((2, 2, 3), 0.5, np.float32)
        >>> y = perturbed(x, 1e-6, np.random.default_rng(0))
        >>> bool(np.abs(y - x).max() < 1e-5), y.dtype.name
        (True, 'float32')
    """
    noise = rng.standard_normal(rgb.shape).astype(np.float32)
    return np.clip(rgb * (1 + size * noise), 0, 1).astype(np.float32)


def examine_repeatedly(
    auto: AutoDeblur, rgb: np.ndarray, repeats: int, size: float
) -> list[tuple[str, float | None]]:
    """The decision and the spread variation (None without evidence) of ``rgb`` as it is
    and under ``repeats`` perturbations (the generator seeded 1, 2, ...)."""
    seen = []
    for repeat in range(repeats + 1):
        image = rgb if repeat == 0 else perturbed(rgb, size, np.random.default_rng(repeat))
        found = auto.examine(image)
        evidence = found.evidence
        seen.append((found.decision.outcome, evidence and evidence.spread_variation))
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_draw_arguments(parser)
    parser.add_argument("--kinds", nargs="+", default=["uniform", "gopro"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--size", type=float, default=1e-6, help="relative perturbation")
    args = parser.parse_args()
    bound = Thresholds().max_spread_variation
    auto = AutoDeblur(lambda: None)  # the network is never run: examine only
    swings, flips = [], 0
    print(
        f"{'kind':8} {'photo':20} {'spread variation: as is, then perturbed':46} swing  decisions"
    )
    for photo in training_photos(args.shared, args.per_kind, args.seed):
        if photo["kind"] not in args.kinds:
            continue
        seen = examine_repeatedly(auto, photo["blurred"], args.repeats, args.size)
        values = [v for _, v in seen if v is not None]
        swing = max(values) - min(values) if values else 0.0
        outcomes = sorted({outcome for outcome, _ in seen})
        swings.append(swing)
        flips += len(outcomes) > 1
        shown = " ".join("-" if v is None else f"{v:.3f}" for _, v in seen)
        print(
            f"{photo['kind']:8} {photo['name'][-20:]:20} {shown:46} {swing:.3f}  {'/'.join(outcomes)}"
        )
    print(
        f"\n{len(swings)} photos, {args.repeats} perturbations of {args.size:g} each: the spread "
        f"variation swings by {np.median(swings):.3f} (median), {max(swings):.3f} at most; "
        f"{flips} photos change decision (bound {bound})"
    )


if __name__ == "__main__":
    main()
