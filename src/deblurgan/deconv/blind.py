"""Blind deconvolution of photos (``--method l0``): estimate one camera-shake kernel on the
luminance, decide whether the photo is blurred at all, then deconvolve every colour channel.

The steps, each a plain function:

1. :func:`~deblurgan.deconv.estimation_region.automatic_kernel_size` (unless the user
   gives one);
2. :func:`~deblurgan.deconv.estimation_region.edge_window`: the square region with the
   most edges, where the kernel is estimated
   (:func:`~deblurgan.deconv.kernel_estimation.estimate_kernel`), on an image reduced to
   :data:`ESTIMATION_LONG_SIDE` pixels when larger (the kernel is scaled back up), on the
   encoded values and in linear light at once, the kernel whose spectrum fits better kept
   (:func:`~deblurgan.deconv.kernel_choice.best_domain`);
3. :func:`~deblurgan.deconv.blur_verdict.blur_verdict`, on the kernel at the estimation
   scale: a kernel that collapsed to (nearly) one pixel
   (:func:`~deblurgan.deconv.blur_verdict.kernel_spread`) means no blur was found, and the
   photo is returned unchanged: deconvolving a sharp photo with an invented kernel only
   adds ringing; a diffuse cloud instead of a path means the estimate failed, and the
   photo is returned unchanged too;
4. :func:`deconvolve_rgb`, at the gamma the kernel was kept at: hyper-Laplacian
   deconvolution per channel (:func:`~deblurgan.deconv.nonblind.deconvolve`), then the
   ripples an imperfect kernel leaves suppressed (:mod:`deblurgan.deconv.ringing`), in
   overlapping tiles for large images;
5. :func:`~deblurgan.deconv.registration.register_to_centroid`: the result moved to where
   the blur is centred (the kernel's sub-pixel centre of mass).
"""

from __future__ import annotations

import dataclasses
import functools
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import cv2
import numpy as np
from tqdm import tqdm

from deblurgan.deconv.blur_verdict import blur_verdict
from deblurgan.deconv.estimation_region import automatic_kernel_size, edge_window, kernel_size_limit
from deblurgan.deconv.kernel_choice import best_by_spectrum, best_domain, sparsest_result
from deblurgan.deconv.kernel_estimation import EstimationSettings, estimate_kernel, pyramid_sizes
from deblurgan.deconv.kernel_shape import crop_to_support, resize_kernel
from deblurgan.deconv.nonblind import ALPHA, data_weight, estimate_noise
from deblurgan.deconv.preprocess import (
    from_linear,
    normalise_contrast,
    reliable_pixels,
    to_linear,
)
from deblurgan.deconv.registration import register_to_centroid
from deblurgan.deconv.threads import WORKERS, thread_budget
from deblurgan.deconv.tiles import SHARPENING, Stage, deconvolve_tiles, tile_grid
from deblurgan.restoration import Restoration

__all__ = ["ESTIMATING", "SHARPENING", "BlindDeconvolution", "BlindSettings", "deconvolve_rgb"]

LUMA = np.array([0.299, 0.587, 0.114], np.float32)  # BT.601
ESTIMATION_WINDOW = 400  # side of the region the kernel is estimated on, pixels
ESTIMATION_LONG_SIDE = 1600  # larger images are reduced to this for the kernel estimate
TILE = 4096  # deconvolution tile side: larger images go in tiles, bounding memory
MIN_SIDE = 32  # smaller images are returned unchanged
MIN_CONTRAST = 2.0 / 255  # luminance standard deviation below this: nothing to estimate from
ESTIMATING = "estimating the blur"  # the stage of the kernel estimate, in plain words
CHOICES = ("spectrum", "sparsity")  # how BlindSettings.choice chooses among the estimates
LINEAR_GAMMA = 2.2  # the display gamma of linear light that BlindSettings.gammas tries


@dataclasses.dataclass(frozen=True)
class BlindSettings:
    """How ``--method l0`` runs; the defaults were chosen on training data
    (docs/blind_deconvolution.md): the options added in round 3 (contrast normalisation,
    clipped pixels masked, the window of useful edges, sub-pixel re-centring) tied round 2's
    settings on the training photos and are there to be chosen (linear light, an option
    then too, is one of the two gammas every photo is estimated at). Since round 11 one
    estimate, an L0 weight that starts each level lower (8e-3 at the coarsest to
    1e-3 at the finest, 8 rounds a level), runs on the encoded values and in linear light at
    once, and the one whose kernel better explains its spectrum is kept: +0.18 to +0.37 dB
    over round 6's pair (this estimate and one of 12 rounds a level, on the encoded values)
    on two draws of training crops, in three quarters of the time; the pair at the chosen
    gamma gained 0.03 dB more for twice the time. Ringing suppression is on since round 6:
    it ties on the mean over three draws of training crops (within 0.02 dB), lifts every
    draw's worst crop (by 0.08-0.49 dB) and leaves weaker ripples where the kernel is not
    exact, as on real photos. Since round 15 each round's kernel keeps its values down to 1%
    of the peak (5% before): measured camera shake has faint tails where the hand moved
    fast; +0.61 and +0.78 dB on two draws of training crops whose hand speed varies, +0.31
    on crops of constant speed.

    Attributes:
        estimation: The kernel estimate's settings.
        alternatives: Further estimates, run beside the first (each in a thread of its
            own), one of which ``choice`` keeps. ``()``: the first estimate alone.
        choice: How the estimates are chosen among: ``"spectrum"``, the one whose power
            spectrum best explains the estimation window's
            (:func:`~deblurgan.deconv.kernel_choice.best_by_spectrum`); ``"sparsity"``, the
            one whose deconvolution of the window has the sparsest gradients
            (:func:`~deblurgan.deconv.kernel_choice.sparsest_result`). The sparsity gained
            0.05-0.13 dB on four draws of training crops but not on photos it never saw
            (Levin and uniform shake a tie, GoPro and rotational shake slightly worse): an
            option (docs/blind_deconvolution.md, round 9).
        gammas: The display gammas the blur may have happened at: the kernel is estimated
            and removed on ``value ** gamma`` (1: on the encoded values, as most
            benchmarks blur; 2.2: in linear light, as a camera blurs). With more than one,
            the last estimate (``estimation`` when there are no ``alternatives``) runs at
            each, the gamma whose kernel best explains its luminance's gradient spectrum
            is kept (:func:`~deblurgan.deconv.kernel_choice.best_domain`), and the other
            estimates run at it (round 11; docs/blind_deconvolution.md).
        normalise: Stretch the luminance's contrast to [0, 1] before the estimate.
        mask_clipped: Pixels within a kernel's reach of a clipped highlight are no
            evidence for the kernel.
        useful_window: Choose the estimation window by Xu and Jia's edge usefulness
            (False: by raw gradient magnitude).
        max_data_weight: Upper bound of the final deconvolution's data weight (lower:
            softer but more tolerant of an imperfect kernel).
        suppress_ringing: Remove the ripples an imperfect kernel leaves beside strong
            edges from the final deconvolution (Pan et al. 2014;
            :mod:`deblurgan.deconv.ringing`; False: the plain hyper-Laplacian result).
        prior_exponent: The final deconvolution's hyper-Laplacian exponent (Krishnan and
            Fergus' 2/3). 0.8 gained 0.03-0.05 dB on three draws of training crops but
            tied on Levin and lost 0.06-0.13 dB on GoPro's dynamic scenes: an option
            (docs/blind_deconvolution.md, round 7).
        register_to_centroid: Shift the result by the kernel's sub-pixel centre-of-mass
            offset, so that it sits where the blur is centred (the middle of the
            exposure, for steady motion; :mod:`deblurgan.deconv.registration`) rather than
            up to half a pixel away (False: where the kernel's centre pixel puts it).
    """

    estimation: EstimationSettings = EstimationSettings(weight=8e-3, finest_weight=1e-3, floor=0.01)
    alternatives: tuple[EstimationSettings, ...] = ()
    choice: str = "spectrum"
    gammas: tuple[float, ...] = (1.0, LINEAR_GAMMA)
    normalise: bool = False
    mask_clipped: bool = False
    useful_window: bool = False
    max_data_weight: float = 3000.0
    suppress_ringing: bool = True
    prior_exponent: float = ALPHA
    register_to_centroid: bool = True

    def __post_init__(self) -> None:
        if self.choice not in CHOICES:
            raise ValueError(f"choice must be one of {CHOICES}, got {self.choice!r}")
        if not self.gammas or min(self.gammas) <= 0:
            raise ValueError(f"gammas must be one or more positive numbers, got {self.gammas}")
        if not 0.0 < self.prior_exponent <= 2.0:
            raise ValueError(f"prior_exponent must be in (0, 2], got {self.prior_exponent}")


@dataclasses.dataclass(frozen=True)
class KernelEstimate:
    """A photo's kernel and what it was estimated from (for methods built on this one).

    Attributes:
        kernel: The kernel at full resolution, or None when none could be estimated.
        note: Why the photo is to be left alone, or None.
        small: The kernel at the estimation scale, on the whole estimation support (the
            full-resolution ``kernel`` is cropped to what it needs).
        gray: The luminance the estimate saw, at the estimation scale and at ``gamma``
            (contrast normalised as the settings say).
        reliable: 0/1 map of the pixels of ``gray`` that are evidence, or None (all).
        scale: The estimation scale relative to full resolution (at most 1).
        gamma: The display gamma the kernel was estimated at, and is to be removed at.
    """

    kernel: np.ndarray | None
    note: str | None
    small: np.ndarray | None = None
    gray: np.ndarray | None = None
    reliable: np.ndarray | None = None
    scale: float = 1.0
    gamma: float = 1.0


def deconvolve_rgb(
    rgb: np.ndarray,
    kernel: np.ndarray,
    weight: float,
    progress: bool = False,
    on_stage: Stage | None = None,
    gamma: float = 1.0,
    suppress_ringing: bool = False,
    exponent: float = ALPHA,
) -> np.ndarray:
    """Deconvolve every channel with ``kernel`` (once for a gray image's equal channels);
    images larger than :data:`TILE` go in overlapping tiles (overlap two kernel sides,
    linearly blended) to bound memory (:func:`~deblurgan.deconv.tiles.deconvolve_tiles`,
    whose ``on_stage``, ``gamma``, ``suppress_ringing`` and ``exponent`` these are).

    Shape:
        - Input: :math:`(H, W, C)`; output the same, float32 in [0, 1].
    """
    overlap = 2 * kernel.shape[0]
    tiles = tile_grid(rgb.shape[0], rgb.shape[1], TILE, overlap)
    kernels = [kernel] * len(tiles)
    return deconvolve_tiles(
        rgb, tiles, kernels, weight, overlap, progress, on_stage,
        gamma=gamma, suppress_ringing=suppress_ringing, exponent=exponent,
    )  # fmt: skip


class BlindDeconvolution:
    """Blind deconvolution with an L0 prior (Xu et al. 2013) as a deblurring method.

    Args:
        kernel_size: Kernel side in pixels (odd, at least 3); None:
            :func:`~deblurgan.deconv.estimation_region.automatic_kernel_size` per image.
        progress: Show progress bars for the kernel estimate and the deconvolution.
        on_stage: Called with a stage in plain words (:data:`ESTIMATING`,
            :data:`SHARPENING`) and the fraction of it done, often (every estimation round,
            every deconvolution iteration); an exception it raises stops the work there
            and propagates (a cancel).

    Examples:
        >>> flat = np.full((40, 40, 3), 0.5, np.float32)
        >>> result = BlindDeconvolution().restore(flat)
        >>> bool(np.array_equal(result.rgb, flat)), result.note is not None
        (True, True)
    """

    name = "l0"

    def __init__(
        self,
        kernel_size: int | None = None,
        progress: bool = False,
        on_stage: Stage | None = None,
        settings: BlindSettings | None = None,
    ) -> None:
        if kernel_size is not None and (kernel_size < 3 or kernel_size % 2 == 0):
            raise ValueError(f"--kernel-size must be odd and at least 3, got {kernel_size}")
        self.kernel_size, self.progress, self.on_stage = kernel_size, progress, on_stage
        self.options = settings or BlindSettings()

    def estimate(self, rgb: np.ndarray) -> KernelEstimate:
        """The image's blur kernel and what it was estimated from; ``note`` says why the
        photo is to be left alone (no kernel could be estimated: kernel None; no blur
        found or a failed, diffuse estimate).

        Raises:
            ValueError: The given kernel size is over
                :func:`~deblurgan.deconv.estimation_region.kernel_size_limit`.
        """
        height, width = rgb.shape[:2]
        if self.kernel_size is not None and self.kernel_size > kernel_size_limit(height, width):
            raise ValueError(
                f"--kernel-size {self.kernel_size} px is too large for a {width}x{height} "
                f"image: at most {kernel_size_limit(height, width)} px (a seventh of the "
                "shorter side; the estimate needs several kernel widths of image)"
            )
        if min(height, width) < MIN_SIDE:
            return KernelEstimate(None, f"too small to estimate a blur kernel ({width}x{height})")
        display = rgb.astype(np.float32, copy=False) @ LUMA
        if float(display.std()) < MIN_CONTRAST:
            return KernelEstimate(None, "no edges to estimate a blur kernel from (a flat image)")
        size = self.kernel_size or automatic_kernel_size(height, width)
        scale = min(1.0, ESTIMATION_LONG_SIDE / max(height, width))
        reduced = (max(int(round(width * scale)), 1), max(int(round(height * scale)), 1))

        def at_scale(gray: np.ndarray) -> np.ndarray:
            return cv2.resize(gray, reduced, interpolation=cv2.INTER_AREA) if scale < 1 else gray

        display = at_scale(display)
        if min(display.shape) < MIN_SIDE:
            return KernelEstimate(None, f"too narrow to estimate a blur kernel ({width}x{height})")
        # the luminance at each gamma (the display's is the encoded values': not again)
        gammas = self.options.gammas
        grays = [display if g == 1.0 else at_scale(to_linear(rgb, g) @ LUMA) for g in gammas]
        fits = min(display.shape) - (min(display.shape) % 2 == 0)  # the largest odd side that fits
        small_size = min(max(int(round(size * scale)) | 1, 3), fits)
        window = max(ESTIMATION_WINDOW, 8 * small_size)
        reliable = reliable_pixels(display, small_size) if self.options.mask_clipped else None
        if self.options.normalise:
            grays = [normalise_contrast(g) for g in grays]
        # one window for every gamma, so that their spectra are compared on the same pixels
        y0, x0 = edge_window(grays[0], window, self.options.useful_window, reliable)
        regions = [g[y0 : y0 + window, x0 : x0 + window] for g in grays]
        region_mask = None if reliable is None else reliable[y0 : y0 + window, x0 : x0 + window]
        chosen, small = self._estimate_kernel(regions, small_size, region_mask)
        fitted = small
        if self.kernel_size is None:  # the size the kernel turned out to need
            fitted = crop_to_support(small)
            size = min(max(int(round(fitted.shape[0] / scale)) | 1, 3), size)
        kernel = resize_kernel(fitted, size) if fitted.shape[0] != size else fitted
        # The verdict at the estimation scale: enlarging spreads a kernel.
        verdict = blur_verdict(small)
        return KernelEstimate(
            kernel, verdict, small, grays[chosen], reliable, scale, gammas[chosen]
        )

    def _estimate_kernel(
        self, regions: list[np.ndarray], size: int, reliable: np.ndarray | None
    ) -> tuple[int, np.ndarray]:
        """The kernel of the estimation window and the index of the gamma it was found at
        (``regions``: the window at each of the settings' gammas).

        At one gamma, each of the settings' estimates (the first and its alternatives) run
        at once in threads and one is chosen as ``settings.choice`` says. At several, the
        last estimate runs first at every gamma at once, the gamma whose kernel best
        explains its spectrum is kept, and the other estimates run at it. Progress is the
        rounds done by all of them."""
        candidates = (self.options.estimation, *self.options.alternatives)
        trials = [(region, candidates[-1]) for region in regions] if len(regions) > 1 else []
        rest = candidates[:-1] if trials else candidates
        # every estimate's rounds are known from the start, so the fraction never steps back
        runs = len(trials) + len(rest)
        iterations = sum(s.iterations for _, s in trials) + sum(c.iterations for c in rest)
        rounds = len(pyramid_sizes(size)) * iterations
        bar = tqdm(
            total=rounds,
            desc="kernel estimate",
            unit="round",
            leave=False,
            disable=not self.progress,
        )
        done = [0] * runs
        lock = threading.Lock()

        def advance(index: int, finished: int, _rounds: int) -> None:
            with lock:  # heard in order
                done[index] = finished
                bar.update(sum(done) - bar.n)
                if self.on_stage is not None:
                    self.on_stage(ESTIMATING, sum(done) / rounds)

        def run(jobs: list[tuple[np.ndarray, EstimationSettings]], first: int) -> list[np.ndarray]:
            """The jobs' kernels, side by side, each estimate's FFTs on its share of the
            threads (the same kernels, sooner); progress slots from ``first`` on."""

            def estimate(index: int) -> np.ndarray:
                region, settings = jobs[index]
                progress = functools.partial(advance, first + index)
                with thread_budget(max(WORKERS // len(jobs), 1)):
                    return estimate_kernel(region, size, settings, reliable, progress)

            if len(jobs) == 1:
                return [estimate(0)]
            with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
                return list(pool.map(estimate, range(len(jobs))))

        try:
            chosen, tried = 0, []
            if trials:
                tried = run(trials, 0)
                chosen = best_domain(regions, tried)
            kernels = run([(regions[chosen], c) for c in rest], len(trials)) if rest else []
            kernels += tried[chosen : chosen + 1]
        finally:
            bar.close()
        region = regions[chosen]
        if len(kernels) == 1:
            return chosen, kernels[0]
        if self.options.choice == "spectrum":
            return chosen, kernels[best_by_spectrum(region, kernels)]
        # each candidate deconvolves the window with the final step's prior, as the final
        # step would use it (cropped to its support unless the user chose its size)
        weight = self.data_weight(region)
        offered = kernels if self.kernel_size is not None else [crop_to_support(k) for k in kernels]
        return chosen, kernels[
            sparsest_result(region, offered, weight, self.options.prior_exponent)
        ]

    def deconvolve(
        self, rgb: np.ndarray, kernel: np.ndarray, gamma: float | None = None
    ) -> np.ndarray:
        """Remove ``kernel`` from ``rgb`` at display ``gamma`` (the estimate's
        :attr:`KernelEstimate.gamma`; None: the settings' first), with the data weight the
        noise level sets."""
        options = self.options
        gamma = options.gammas[0] if gamma is None else gamma
        linear = to_linear(rgb, gamma)
        weight = self.data_weight(linear)
        sharp = deconvolve_rgb(
            linear, kernel, weight, self.progress, self.on_stage, gamma=gamma,
            suppress_ringing=options.suppress_ringing, exponent=options.prior_exponent,
        )  # fmt: skip
        sharp = from_linear(sharp, gamma)
        return register_to_centroid(sharp, kernel) if options.register_to_centroid else sharp

    def data_weight(self, linear: np.ndarray) -> float:
        """The final deconvolution's data weight for an RGB or gray image in linear light
        (from its noise level, at most ``max_data_weight``)."""
        gray = linear @ LUMA if linear.ndim == 3 else linear
        return min(data_weight(estimate_noise(gray)), self.options.max_data_weight)

    def restore(self, rgb: np.ndarray) -> Restoration:
        """Deblur one ``(H, W, 3)`` image in [0, 1]; returned unchanged, with a note, when
        no blur is found or nothing can be estimated."""
        if rgb.ndim != 3 or rgb.shape[-1] != 3:
            raise ValueError(f"expected an (H, W, 3) RGB array, got {rgb.shape}")
        rgb = rgb.astype(np.float32, copy=False)
        found = self.estimate(rgb)
        if found.note is not None:
            return Restoration(rgb, found.kernel, f"{found.note}; returned unchanged")
        return Restoration(self.deconvolve(rgb, found.kernel, found.gamma), found.kernel)

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """Deblur an ``(H, W, 3)`` image or each image of an ``(N, H, W, 3)`` stack."""
        if rgb.ndim == 4:
            return np.stack([self.restore(image).rgb for image in rgb])
        return self.restore(rgb).rgb

    def settings(self) -> dict[str, Any]:
        """What a report records about this method."""
        return {"method": self.name, "kernel_size": self.kernel_size or "auto"}
