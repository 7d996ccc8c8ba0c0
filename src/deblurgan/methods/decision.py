"""``--method auto``'s decision: the evidence gathered on a photo, the thresholds set on
training data, and :func:`decide`, a plain function of the two.

The evidence (:class:`Evidence`) comes from :class:`~deblurgan.methods.auto.AutoDeblur`:
the photo's one-kernel estimate refined on a grid of windows, one in-plane camera motion
fitted to them, and how much the blur's extent varies between the parts of the photo
(:func:`spread_variation` on a :func:`spread_grid`). The thresholds' values and where
they come from are in :class:`Thresholds` and docs/auto.md.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.signal

from deblurgan.deconv.blur_verdict import kernel_spread

NONE, UNIFORM, VARYING, NETWORK = "none", "uniform", "varying", "network"
# How a decision for the network ends where the blur may still be camera shake alone.
NETWORK_UNLESS_SHAKE = "network (if only the camera moved, method l0 may remove more)"
# The spread variation is measured on windows of a 2x3 grid (3 along the longer side), not
# the 3x3 grid of the other evidence: larger windows hold more edges, so their kernels are
# less noisy. On both training draws (round 9) uniform shake varied by at most 0.19 on 2x3
# (1.03 on 3x3: three of 19 photos over the bound went to the network), GoPro's scenes by
# 0.21-0.82 (0.22-0.82); 2x2 hid GoPro's variation (0.03), 4x4 was noisier (docs/auto.md).
# Two fresh draws (round 10) reached 0.32: four of 22 uniform-shake photos over the bound.
SPREAD_GRID = (2, 3)


def spread_grid(height: int, width: int) -> tuple[int, int]:
    """The grid (rows, columns) the spread variation is measured on: :data:`SPREAD_GRID`,
    its longer side along the photo's longer side.

    Examples:
        >>> spread_grid(384, 512), spread_grid(512, 384)
        ((2, 3), (3, 2))
    """
    short, long = sorted(SPREAD_GRID)
    return (short, long) if width >= height else (long, short)


@dataclasses.dataclass(frozen=True)
class Thresholds:
    """Where :func:`decide` draws its lines, set on training data only
    (``benchmarks/auto_calibration.py``; every round's figures are in docs/auto.md, "Where
    the thresholds come from").

    The spread variation is how much the blur's extent differs between the parts of the
    photo (:attr:`Evidence.spread_variation`): one camera shake of a still scene blurs every
    part as much, moving objects, depth and a rolling camera do not. Its bound is the one
    that gains most on the blurred training photos (four draws and 16 long GoPro clips)
    among those that leave every GoPro photo with the network, the middle of the plateau
    where several tie. Round 16 (round 15's evidence, 141 photos): 0.19 and 0.20 gain
    +0.887 dB, 0.21 +0.892 (one photo), GoPro's closest training photo varies by 0.258,
    uniform shake given one kernel by at most 0.187. The variation depends on the CPU and
    moves under float32 rounding by up to 0.09 (``benchmarks/decision_stability.py``).

    The fit ratio is how many times better a rolling camera explains the local kernels
    than one kernel does (:attr:`Evidence.fit_ratio`); a lower residual bound (0.1) would
    refuse even the TRUE local kernels of a rolled camera (the pose grid leaves about 0.12).

    Attributes:
        sharp_windows: This many windows with no blur in a blurred photo mean moving
            objects: the network.
        blurred_windows: This many blurred windows in a photo whose edges show no blur
            mean moving objects too.
        max_spread_variation: Up to this spread variation (when the blur is not one that
            varies): one camera-shake kernel.
        min_varying_ratio: From this fit ratio (with a good fit): shake that varies.
        max_varying_residual: The rolling camera's fit must leave at most this relative
            error for the blur to count as camera shake that varies.
    """

    sharp_windows: int = 2
    blurred_windows: int = 2
    max_spread_variation: float = 0.19
    min_varying_ratio: float = 2.0
    max_varying_residual: float = 0.15


@dataclasses.dataclass(frozen=True)
class Evidence:
    """What the decision is based on.

    Attributes:
        spread: The whole photo's kernel spread (pixels, at the estimation scale).
        size: The kernel side at full resolution.
        sharp_windows: Windows whose refined kernel shows no blur.
        windows: Windows in all.
        agreement: The smallest shift-invariant normalised correlation of a window's
            kernel with the whole photo's.
        roll: How far the fitted roll moves the farthest window (pixels, one standard
            deviation, at the estimation scale).
        residual: Relative error of the rolling-camera fit.
        uniform_residual: Relative error of the best single kernel.
        spread_variation: How much the kernel spreads of the windows of a
            :func:`spread_grid` differ: their standard deviation over their mean (0: the
            same blur extent everywhere).
    """

    spread: float
    size: int
    sharp_windows: int
    windows: int
    agreement: float
    roll: float
    residual: float
    uniform_residual: float
    spread_variation: float

    @property
    def fit_ratio(self) -> float:
        """How many times better a rolling camera explains the local kernels than one
        kernel does (1: no better)."""
        return self.uniform_residual / max(self.residual, 1e-9)

    def as_dict(self) -> dict[str, float]:
        """The evidence as plain numbers (for reports)."""
        return {k: float(v) for k, v in dataclasses.asdict(self).items()}


@dataclasses.dataclass(frozen=True)
class Decision:
    """What :func:`decide` chose, and why in plain words."""

    outcome: str
    words: str


def decide(evidence: Evidence, thresholds: Thresholds = Thresholds()) -> Decision:
    """Choose how to deblur a blurred photo from its :class:`Evidence`.

    Examples:
        >>> calm = Evidence(12.0, 21, 0, 9, 0.9, 0.5, 0.20, 0.22, 0.1)
        >>> decide(calm).outcome
        'uniform'
        >>> decide(dataclasses.replace(calm, residual=0.05, uniform_residual=0.2)).outcome
        'varying'
        >>> decide(dataclasses.replace(calm, spread_variation=0.5)).outcome
        'network'
        >>> decide(dataclasses.replace(calm, sharp_windows=4)).outcome
        'network'
    """
    if evidence.sharp_windows >= thresholds.sharp_windows:
        return Decision(
            NETWORK,
            f"moving objects: {evidence.sharp_windows} of {evidence.windows} parts of the "
            "photo are sharp while the rest is blurred; network",
        )
    if evidence.fit_ratio >= thresholds.min_varying_ratio and (
        evidence.residual <= thresholds.max_varying_residual
    ):
        return Decision(
            VARYING,
            f"camera shake that varies across the frame (the camera rolled), kernels up to "
            f"{evidence.size} px",
        )
    if evidence.spread_variation <= thresholds.max_spread_variation:
        return Decision(UNIFORM, f"uniform camera shake, kernel {evidence.size} px")
    return Decision(
        NETWORK,
        f"blur that differs across the photo (moving objects, depth or a rolling camera: "
        f"the extent of its parts' blur varies by {100 * evidence.spread_variation:.0f}%); "
        + NETWORK_UNLESS_SHAKE,
    )


def kernel_agreement(a: np.ndarray, b: np.ndarray) -> float:
    """Peak normalised cross-correlation of two kernels over all shifts (1: the same shape
    anywhere).

    Examples:
        >>> k = np.zeros((5, 5)); k[2, 1:4] = 1 / 3
        >>> round(kernel_agreement(k, np.roll(k, 1, axis=0)), 3)
        1.0
    """
    c = scipy.signal.fftconvolve(a, b[::-1, ::-1], mode="full")
    return float(c.max() / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-12))


def spread_variation(kernels: list[np.ndarray], weights: np.ndarray | None = None) -> float:
    """How much the kernels' spreads (:func:`~deblurgan.deconv.blur_verdict.kernel_spread`)
    differ: their standard deviation over their mean, each kernel counted by its weight
    (None: all alike). Windows with no blur count too: one sharp window among eight blurred
    ones of 12-20 px alone makes about 0.25-0.35.

    Args:
        kernels: The windows' kernels.
        weights: How much each counts (:attr:`~deblurgan.deconv.nonuniform.LocalKernels.contrast`
            in :class:`~deblurgan.methods.auto.AutoDeblur`: a window with few edges gives a
            noisy kernel, and the spreads of uniform shake's training photos varied less
            counted so: docs/auto.md, round 14).

    Raises:
        ValueError: No kernels, one with no mass (an infinite spread), or weights that are
            negative, of another count or all zero.

    Examples:
        >>> line = lambda n: np.pad(np.full((1, n), 1 / n), ((4, 4), (0, 9 - n)))
        >>> spread_variation([line(9), line(9)]), round(spread_variation([line(3), line(9)]), 2)
        (0.0, 0.5)
        >>> round(spread_variation([line(3), line(9)], np.array([1.0, 3.0])), 2)
        0.35
    """
    with np.errstate(divide="ignore"):  # a kernel with no mass: an infinite spread
        spreads = np.array([kernel_spread(k) for k in kernels])
    if spreads.size == 0 or not np.all(np.isfinite(spreads)):
        raise ValueError(f"need kernels with finite spreads, got {spreads.tolist()}")
    if weights is not None:
        weights = np.asarray(weights, np.float64)
        if weights.shape != spreads.shape or np.any(weights < 0) or not weights.sum() > 0:
            raise ValueError(
                f"need one non-negative weight per kernel, not all zero; got {weights.tolist()}"
            )
    mean = np.average(spreads, weights=weights)
    return float(np.sqrt(np.average((spreads - mean) ** 2, weights=weights)) / mean)
