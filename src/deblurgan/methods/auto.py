"""``--method auto``: per photo, decide what blurred it and remove it the right way.

The photo's one-kernel estimate (``l0``'s) comes first. Then:

- no blur found: the photo comes back unchanged;
- the kernel refined on a grid of windows (:func:`~deblurgan.deconv.nonuniform.local_kernels`)
  and one in-plane camera motion fitted to all of them
  (:func:`~deblurgan.deconv.motion_fit.fit_inplane_motion`) give the evidence
  (:class:`Evidence`): windows that come out sharp while the photo is blurred point to
  moving objects: the network; kernels that a rolling camera explains much better than
  one kernel: blur that varies across the frame, removed tile by tile; kernels about as
  large in every window (:func:`spread_variation`): one camera-shake kernel (``l0``);
  blur much larger in some windows than in others (moving objects, depth): the network.

:func:`decide` is a plain function of the evidence and :class:`Thresholds`, whose values
were set on training data only (``benchmarks/auto_calibration.py``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.signal

from deblurgan.deconv.blind import (
    MIN_BLUR_SPREAD,
    BlindDeconvolution,
    BlindSettings,
    KernelEstimate,
    kernel_spread,
)
from deblurgan.deconv.motion_fit import InplaneMotion
from deblurgan.deconv.nonuniform import (
    WINDOW_GRID,
    deconvolve_varying,
    fit_motion,
    kernel_mosaic,
    local_kernels,
)
from deblurgan.deconv.preprocess import from_linear, to_linear
from deblurgan.restoration import DeblurMethod, Restoration

NONE, UNIFORM, VARYING, NETWORK = "none", "uniform", "varying", "network"
COMPARING = "comparing parts of the photo"  # the decision's stage, in plain words
# The spread variation is measured on windows of a 2x3 grid (3 along the longer side), not
# the 3x3 grid of the other evidence: larger windows hold more edges, so their kernels are
# less noisy. On both training draws (round 9) uniform shake varied by at most 0.19 on 2x3
# (1.03 on 3x3: three of 19 photos over the bound went to the network), GoPro's scenes by
# 0.21-0.82 (0.22-0.82); 2x2 hid GoPro's variation (0.03), 4x4 was noisier (docs/auto.md).
SPREAD_GRID = (2, 3)
WINDOWS = math.prod(WINDOW_GRID)  # windows of the other evidence


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
    (``benchmarks/auto_calibration.py``; the figures are in docs/auto.md).

    The spread variation is how much the blur's extent differs between the parts of the
    photo (:attr:`Evidence.spread_variation`): one camera shake of a still scene blurs every
    part as much, moving objects, depth and a rolling camera do not. Set in round 6 on 68
    blurred training photos (two draws of ``auto_calibration``): GoPro's dynamic scenes
    varied by 0.22-0.82 and lost 0.18-1.04 dB with one kernel against the network, uniform
    shake by 0.01-0.16 in 16 of 19 photos; 0.2 gave the best mean gain among the bounds
    that leave every GoPro photo with the network (+0.35 dB against +0.28 with round 5's
    fit-ratio bound of 1.45, which GoPro's scenes (1.49-1.87) and uniform shake (1.24-1.74)
    both crossed). Checked again in round 7, with ``l0``'s result registered where the blur
    is centred: still the best such bound (+0.47 dB); 0.3 would give the GoPro photo
    varying by 0.22 one kernel, which loses 0.33 dB against the network. Since round 9 the
    variation is measured on a 2x3 grid (:data:`SPREAD_GRID`): uniform shake 0.01-0.19,
    GoPro 0.21-0.82, and 0.2 still the best such bound (+0.51 dB on 76 blurred photos).
    Round 10's two fresh draws and 16 longer GoPro clips: uniform shake up to 0.32 (4 of
    22 photos over the bound), and 0.2 still the best such bound (+0.47 dB on 150).

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
    max_spread_variation: float = 0.2
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
        "network",
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


def spread_variation(kernels: list[np.ndarray]) -> float:
    """How much the kernels' spreads (:func:`~deblurgan.deconv.blind.kernel_spread`)
    differ: their standard deviation over their mean. Windows with no blur count too: one
    sharp window among eight blurred ones of 12-20 px alone makes about 0.25-0.35.

    Raises:
        ValueError: No kernels, or one with no mass (an infinite spread).

    Examples:
        >>> line = lambda n: np.pad(np.full((1, n), 1 / n), ((4, 4), (0, 9 - n)))
        >>> spread_variation([line(9), line(9)]), round(spread_variation([line(3), line(9)]), 2)
        (0.0, 0.5)
    """
    with np.errstate(divide="ignore"):  # a kernel with no mass: an infinite spread
        spreads = np.array([kernel_spread(k) for k in kernels])
    if spreads.size == 0 or not np.all(np.isfinite(spreads)):
        raise ValueError(f"need kernels with finite spreads, got {spreads.tolist()}")
    return float(spreads.std() / spreads.mean())


@dataclasses.dataclass(frozen=True)
class Examination:
    """Everything :meth:`AutoDeblur.examine` found out about a photo.

    Attributes:
        found: The one-kernel estimate.
        decision: What to do.
        evidence: The evidence (None when the estimate alone decided).
        motion: The fitted camera motion (None likewise), at the local scale.
        local_scale: The local kernels' scale relative to the estimation scale.
        local_size: The local kernels' side.
    """

    found: KernelEstimate
    decision: Decision
    evidence: Evidence | None = None
    motion: InplaneMotion | None = None
    local_scale: float = 1.0
    local_size: int = 0


class AutoDeblur:
    """The automatic method: no blur, one kernel, kernels that vary, or the network.

    Args:
        network: Builds the network method when a photo needs it (loaded once, on first
            use).
        kernel_size: As :class:`~deblurgan.deconv.blind.BlindDeconvolution`.
        progress: Show progress bars.
        on_stage: Hears the stages in plain words and the fraction done (and may raise to
            stop the work), as :class:`~deblurgan.deconv.blind.BlindDeconvolution`.
        thresholds: The decision's thresholds.
        settings: How the kernel is estimated and removed (as ``--method l0``; None: its
            defaults).
    """

    name = "auto"

    def __init__(
        self,
        network: Callable[[], DeblurMethod],
        kernel_size: int | None = None,
        progress: bool = False,
        on_stage: Callable[[str, float], None] | None = None,
        thresholds: Thresholds = Thresholds(),
        settings: BlindSettings | None = None,
    ) -> None:
        self.blind = BlindDeconvolution(kernel_size, progress, on_stage, settings)
        self.thresholds, self.on_stage = thresholds, on_stage
        self._build_network, self._network = network, None

    def network(self) -> DeblurMethod:
        """The network method, built on first use."""
        if self._network is None:
            self._network = self._build_network()
        return self._network

    def _stage_part(self, start: float, share: float) -> Callable[[str, float], None] | None:
        """``on_stage`` for a part of the decision's stage that begins at ``start`` and
        takes ``share`` of it (None without ``on_stage``)."""
        if self.on_stage is None:
            return None
        on_stage = self.on_stage
        return lambda stage, fraction: on_stage(stage, start + share * fraction)

    def examine(self, rgb: np.ndarray) -> Examination:
        """Estimate, gather the evidence and decide (no deblurring)."""
        found = self.blind.estimate(rgb)
        if found.kernel is None:
            return Examination(found, Decision(NONE, f"{found.note}; returned unchanged"))
        if found.note is not None and kernel_spread(found.small) >= MIN_BLUR_SPREAD:
            return Examination(found, Decision(NETWORK, f"{found.note}; network"))  # diffuse
        # the decision's stage: the 3x3 windows, then (for a blurred photo) the spread's grid
        share = 1.0 if found.note is not None else WINDOWS / (WINDOWS + math.prod(SPREAD_GRID))
        local = local_kernels(
            found.gray, found.small, found.reliable, progress=self._stage_part(0.0, share)
        )
        if found.note is not None:  # no blur where the edges are: is a part blurred (moving)?
            blurred = sum(kernel_spread(k) >= MIN_BLUR_SPREAD for k in local.kernels)
            if blurred < self.thresholds.blurred_windows:
                return Examination(found, Decision(NONE, "no blur found; returned unchanged"))
            words = (
                f"moving objects: {blurred} of {len(local.kernels)} parts of the photo are "
                "blurred while the rest is sharp; network"
            )
            return Examination(found, Decision(NETWORK, words))
        motion = fit_motion(local)
        reach = float(np.max(np.hypot(local.points[:, 0], local.points[:, 1])))
        extents = local_kernels(
            found.gray,
            found.small,
            found.reliable,
            grid=spread_grid(*found.gray.shape),
            progress=self._stage_part(share, 1.0 - share),
        )
        evidence = Evidence(
            spread=kernel_spread(found.small),
            size=found.kernel.shape[0],
            sharp_windows=sum(kernel_spread(k) < MIN_BLUR_SPREAD for k in local.kernels),
            windows=len(local.kernels),
            agreement=min(kernel_agreement(k, found.small) for k in local.kernels),
            roll=motion.roll_spread * reach,
            residual=motion.residual,
            uniform_residual=motion.uniform_residual,
            spread_variation=spread_variation(extents.kernels),
        )
        decision = decide(evidence, self.thresholds)
        size = local.kernels[0].shape[0]
        return Examination(found, decision, evidence, motion, local.scale, size)

    def restore(self, rgb: np.ndarray) -> Restoration:
        """Deblur one ``(H, W, 3)`` image in [0, 1] the way :func:`decide` chooses; the
        decision is :attr:`Restoration.decision`."""
        if rgb.ndim != 3 or rgb.shape[-1] != 3:
            raise ValueError(f"expected an (H, W, 3) RGB array, got {rgb.shape}")
        rgb = rgb.astype(np.float32, copy=False)
        seen = self.examine(rgb)
        found, decision = seen.found, seen.decision
        if decision.outcome == NONE:
            return Restoration(rgb, found.kernel, decision=decision.words)
        if decision.outcome == NETWORK:
            restored = self.network().restore(rgb)
            return dataclasses.replace(restored, decision=decision.words)
        if decision.outcome == UNIFORM:
            sharp = self.blind.deconvolve(rgb, found.kernel)
            return Restoration(sharp, found.kernel, decision=decision.words)
        sharp, mosaic = self.remove_varying(rgb, seen)
        return Restoration(sharp, mosaic, decision=decision.words)

    def remove_varying(self, rgb: np.ndarray, seen: Examination) -> tuple[np.ndarray, np.ndarray]:
        """Remove blur that varies across the frame, as ``seen``'s camera motion says, tile
        by tile (in linear light for a gamma other than 1).

        Returns:
            The deblurred image and the tiles' kernels as one picture
            (:func:`~deblurgan.deconv.nonuniform.kernel_mosaic`).

        Raises:
            ValueError: ``seen`` holds no camera motion (the estimate alone decided).
        """
        if seen.motion is None:
            raise ValueError("no camera motion was fitted to this photo")
        found, gamma = seen.found, self.blind.options.gamma
        linear = to_linear(rgb, gamma)
        sharp, kernels, tiles = deconvolve_varying(
            linear,
            seen.motion,
            found.scale * seen.local_scale,
            seen.local_size,
            self.blind.data_weight(linear),
            self.blind.progress,
            self.on_stage,
            gamma=gamma,
            suppress_ringing=self.blind.options.suppress_ringing,
            exponent=self.blind.options.prior_exponent,
        )
        return from_linear(sharp, gamma), kernel_mosaic(kernels, tiles)

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """Deblur an ``(H, W, 3)`` image or each image of an ``(N, H, W, 3)`` stack."""
        if rgb.ndim == 4:
            return np.stack([self.restore(image).rgb for image in rgb])
        return self.restore(rgb).rgb

    def settings(self) -> dict[str, Any]:
        """What a report records about this method."""
        return {"method": self.name, "kernel_size": self.blind.kernel_size or "auto"}
