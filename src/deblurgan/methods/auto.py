"""``--method auto``: per photo, decide what blurred it and remove it the right way.

The photo's one-kernel estimate (``l0``'s) comes first. Then:

- no blur found: the photo comes back unchanged;
- a blur that no part of the photo shows once reduced to 512 px, where the parts are
  compared: nothing tells camera shake from a dynamic scene there, so the network;
- the kernel refined on a grid of windows (:func:`~deblurgan.deconv.nonuniform.local_kernels`)
  and one in-plane camera motion fitted to all of them
  (:func:`~deblurgan.deconv.motion_fit.fit_inplane_motion`) give the evidence
  (:class:`~deblurgan.methods.decision.Evidence`): windows that come out sharp while the
  photo is blurred point to moving objects: the network; kernels that a rolling camera
  explains much better than one kernel: blur that varies across the frame, removed tile by
  tile; kernels about as large in every window
  (:func:`~deblurgan.methods.decision.spread_variation`): one camera-shake kernel
  (``l0``); blur much larger in some windows than in others (moving objects, depth): the
  network.

:func:`~deblurgan.methods.decision.decide` is a plain function of the evidence and
:class:`~deblurgan.methods.decision.Thresholds`, whose values were set on training data
only (``benchmarks/auto_calibration.py``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from deblurgan.deconv.blind import BlindDeconvolution, BlindSettings, KernelEstimate
from deblurgan.deconv.blur_verdict import MIN_BLUR_SPREAD, kernel_spread
from deblurgan.deconv.motion_fit import InplaneMotion
from deblurgan.deconv.nonuniform import (
    LOCAL_LONG_SIDE,
    WINDOW_GRID,
    LocalKernels,
    deconvolve_varying,
    fit_motion,
    kernel_mosaic,
    local_kernels,
)
from deblurgan.deconv.preprocess import from_linear, to_linear
from deblurgan.methods.decision import (
    NETWORK,
    NETWORK_UNLESS_SHAKE,
    NONE,
    SPREAD_GRID,
    UNIFORM,
    Decision,
    Evidence,
    Thresholds,
    decide,
    kernel_agreement,
    spread_grid,
    spread_variation,
)
from deblurgan.restoration import DeblurMethod, Restoration

COMPARING = "comparing parts of the photo"  # the decision's stage, in plain words
WINDOWS = math.prod(WINDOW_GRID)  # windows of the other evidence


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
        extents: The kernels of the :func:`~deblurgan.methods.decision.spread_grid`'s
            windows and their contrasts, which the spread variation was measured on (None
            likewise).
    """

    found: KernelEstimate
    decision: Decision
    evidence: Evidence | None = None
    motion: InplaneMotion | None = None
    local_scale: float = 1.0
    local_size: int = 0
    extents: LocalKernels | None = None


def too_small_words(found: KernelEstimate) -> str:
    """Why a blurred photo whose parts cannot be compared goes to the network: on the
    photo reduced to :data:`~deblurgan.deconv.nonuniform.LOCAL_LONG_SIDE` pixels every
    window's kernel spreads under :data:`~deblurgan.deconv.blur_verdict.MIN_BLUR_SPREAD`,
    so nothing tells camera shake from a dynamic scene there (until round 12 this was
    called "moving objects: 9 of 9 parts of the photo are sharp"; docs/auto.md)."""
    return (
        f"blur too small to compare the parts of the photo (kernel {found.kernel.shape[0]} px, "
        f"under the no-blur spread on a {LOCAL_LONG_SIDE} px copy); {NETWORK_UNLESS_SHAKE}"
    )


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
        sharp = sum(kernel_spread(k) < MIN_BLUR_SPREAD for k in local.kernels)
        if sharp == len(local.kernels):  # the blur is lost on the reduced copy, everywhere
            if self.on_stage is not None:
                self.on_stage(COMPARING, 1.0)  # the spread's grid is not needed
            return Examination(found, Decision(NETWORK, too_small_words(found)))
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
            sharp_windows=sharp,
            windows=len(local.kernels),
            agreement=min(kernel_agreement(k, found.small) for k in local.kernels),
            roll=motion.roll_spread * reach,
            residual=motion.residual,
            uniform_residual=motion.uniform_residual,
            spread_variation=spread_variation(extents.kernels, extents.contrast),
        )
        decision = decide(evidence, self.thresholds)
        size = local.kernels[0].shape[0]
        return Examination(found, decision, evidence, motion, local.scale, size, extents)

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
            sharp = self.blind.deconvolve(rgb, found.kernel, found.gamma)
            return Restoration(sharp, found.kernel, decision=decision.words)
        sharp, mosaic = self.remove_varying(rgb, seen)
        return Restoration(sharp, mosaic, decision=decision.words)

    def remove_varying(self, rgb: np.ndarray, seen: Examination) -> tuple[np.ndarray, np.ndarray]:
        """Remove blur that varies across the frame, as ``seen``'s camera motion says, tile
        by tile (at the display gamma its kernel was estimated at).

        Returns:
            The deblurred image and the tiles' kernels as one picture
            (:func:`~deblurgan.deconv.nonuniform.kernel_mosaic`).

        Raises:
            ValueError: ``seen`` holds no camera motion (the estimate alone decided).
        """
        if seen.motion is None:
            raise ValueError("no camera motion was fitted to this photo")
        found, gamma = seen.found, seen.found.gamma
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
