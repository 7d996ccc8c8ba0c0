"""Videos through ``l0`` and ``auto`` with state per video: one decision per shot, and
kernels that change smoothly from frame to frame, so the output does not flicker.

Passed frame by frame, blind deconvolution decides and estimates afresh on every frame: a
shaky clip comes out with some frames left alone ("no blur found") and others deconvolved,
and with kernels that jump. :class:`VideoDeblur` wraps one method for ONE video:

1. **Shots.** A frame whose colours (:func:`colour_histogram`) and layout
   (:func:`frame_layout`) both differ from the previous frame's by more than
   :data:`CUT_COLOURS` and :data:`CUT_LAYOUT` starts a new shot (:func:`find_cuts`).
2. **One decision per shot,** on its first frame: ``auto``'s
   :meth:`~deblurgan.methods.auto.AutoDeblur.examine` (no blur, one kernel, kernels that
   vary, the network); ``l0``'s blur verdict (no blur or a failed estimate: the shot is
   left alone; else deconvolved). The decision holds for every frame of the shot.
3. **Kernels smooth in time.** Within a shot of camera shake every frame's estimate is
   blended into the previous smoothed kernel (:func:`blend_kernels`: both centred on
   their centre of mass on a common canvas, ``memory`` of the old one, renormalised); a
   frame whose own estimate finds no blur keeps the smoothed kernel. Shake that varies
   across the frame blends the fitted camera motions the same way
   (:func:`blend_motions`). The network needs no state.

:func:`for_video` gives a fresh :class:`VideoDeblur` for the methods that estimate kernels
and the method itself for the others (the network keeps taking stacks of frames).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import cv2
import numpy as np

from deblurgan.deconv.blind import BlindDeconvolution
from deblurgan.deconv.motion_fit import InplaneMotion
from deblurgan.methods.auto import NETWORK, NONE, UNIFORM, VARYING, AutoDeblur, Examination
from deblurgan.restoration import DeblurMethod, Restoration

__all__ = [
    "CUT_COLOURS",
    "CUT_LAYOUT",
    "Shot",
    "VideoDeblur",
    "VideoSettings",
    "blend_kernels",
    "blend_motions",
    "colour_histogram",
    "find_cuts",
    "for_video",
    "frame_layout",
    "histogram_distance",
    "kernel_change",
    "layout_distance",
]

# A new shot starts where the colours (:func:`histogram_distance`) AND the layout
# (:func:`layout_distance`) of a frame both differ from the previous frame's by more than
# these. Set on training material only (``benchmarks/video_flicker.py --calibrate-cuts``):
# frames of one shot (GOPR0477's raw 240 fps frames 1 and 8 apart, 7-frame averages;
# sharp_corpus training photos sharp and under two random shake kernels of up to 40 px,
# shifted by up to 12 px, 1/255 noise) and cuts between different training photos or a
# GoPro frame and a photo. The colours alone went up to 0.245 within a shot (a sharp frame
# against a 40 px shake: blur mixes colours) while cuts started at 0.204; the layout alone
# up to 0.80 within (the shake shifts the frame) and from 0.46 at cuts; both together
# separated every pair at 0.2 and 0.4 (the table is in docs/video.md).
CUT_COLOURS = 0.2
CUT_LAYOUT = 0.4
HISTOGRAM_BINS = 4  # per channel: 64 colour bins
SIGNATURE_SIDE = 64  # frames are reduced to this long side before the histogram
LAYOUT_SIDE = 8  # and to this long side for the layout
TRACE_FLOOR = 1e-3  # blended kernel values under this fraction of the peak are dropped
LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def _reduced(rgb: np.ndarray, side: int) -> np.ndarray:
    height, width = rgb.shape[:2]
    scale = min(1.0, side / max(height, width))
    size = (max(int(round(width * scale)), 1), max(int(round(height * scale)), 1))
    return cv2.resize(rgb.astype(np.float32), size, interpolation=cv2.INTER_AREA)


def colour_histogram(rgb: np.ndarray) -> np.ndarray:
    """The joint colour histogram of a frame reduced to :data:`SIGNATURE_SIDE` pixels
    (:data:`HISTOGRAM_BINS` bins per channel), summing to 1: it hardly moves when the
    camera shakes or pans a little, and jumps at most cuts.

    Shape:
        - Input: :math:`(H, W, 3)` in [0, 1]; output :math:`(64,)`.
    """
    bins = HISTOGRAM_BINS
    q = np.clip((_reduced(rgb, SIGNATURE_SIDE) * bins).astype(np.int64), 0, bins - 1)
    index = (q[..., 0] * bins + q[..., 1]) * bins + q[..., 2]
    counts = np.bincount(index.ravel(), minlength=bins**3).astype(np.float64)
    return counts / counts.sum()


def histogram_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Half the L1 distance of two histograms: 0 for the same colours, 1 for none shared.

    Examples:
        >>> histogram_distance(np.array([1.0, 0.0]), np.array([0.0, 1.0]))
        1.0
    """
    return float(0.5 * np.abs(a - b).sum())


def frame_layout(rgb: np.ndarray) -> np.ndarray:
    """The frame's luminance reduced to :data:`LAYOUT_SIDE` pixels, standardised (zero
    mean, unit deviation): where the light and dark parts are, which blur hardly changes.

    Shape:
        - Input: :math:`(H, W, 3)` in [0, 1]; output about :math:`(8 H / W, 8)`.
    """
    gray = _reduced(rgb, LAYOUT_SIDE) @ LUMA
    return (gray - gray.mean()) / max(float(gray.std()), 1e-3)


def layout_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two :func:`frame_layout` maps (0: the same layout)."""
    return float(np.mean(np.abs(a - b)))


def find_cuts(
    frames: list[np.ndarray], colours: float = CUT_COLOURS, layout: float = CUT_LAYOUT
) -> list[int]:
    """Indices of the frames that start a new shot (the first frame is not counted): the
    colours and the layout both changed from the previous frame by more than the
    thresholds.

    Shape:
        - Input: frames :math:`(H, W, 3)` in [0, 1].
    """
    signatures = [(colour_histogram(f), frame_layout(f)) for f in frames]
    return [
        i for i in range(1, len(frames)) if _is_cut(*signatures[i - 1 : i + 1], colours, layout)
    ]


def _is_cut(
    before: tuple[np.ndarray, np.ndarray],
    after: tuple[np.ndarray, np.ndarray],
    colours: float,
    layout: float,
) -> bool:
    return (
        histogram_distance(before[0], after[0]) > colours
        and layout_distance(before[1], after[1]) > layout
    )


def _centred(kernel: np.ndarray) -> np.ndarray:
    """``kernel`` normalised and shifted by whole pixels so that its centre of mass is
    (within half a pixel) its centre; odd sides."""
    k = np.asarray(kernel, np.float64)
    k = np.pad(k, [(0, 1 - s % 2) for s in k.shape]) / k.sum()
    ys, xs = np.indices(k.shape)
    dy = int(round((k.shape[0] - 1) / 2 - float((k * ys).sum())))
    dx = int(round((k.shape[1] - 1) / 2 - float((k * xs).sum())))
    reach = max(abs(dy), abs(dx))
    return np.roll(np.pad(k, reach), (dy, dx), axis=(0, 1))


def _common(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two centred kernels padded about their centres to one (odd) shape."""
    a, b = _centred(a), _centred(b)
    shape = (max(a.shape[0], b.shape[0]), max(a.shape[1], b.shape[1]))

    def grow(k: np.ndarray) -> np.ndarray:
        return np.pad(k, [((s - n) // 2, (s - n) // 2) for s, n in zip(shape, k.shape)])

    return grow(a), grow(b)


def _trim(kernel: np.ndarray) -> np.ndarray:
    """Drop values under :data:`TRACE_FLOOR` of the peak, renormalise, and crop the empty
    border symmetrically about the centre (odd sides, at least 3)."""
    k = np.where(kernel >= TRACE_FLOOR * kernel.max(), kernel, 0.0)
    rows, cols = np.nonzero(k)
    cy, cx = k.shape[0] // 2, k.shape[1] // 2
    ry = max(int(np.max(np.abs(rows - cy))), 1)
    rx = max(int(np.max(np.abs(cols - cx))), 1)
    k = k[cy - ry : cy + ry + 1, cx - rx : cx + rx + 1]
    return (k / k.sum()).astype(np.float32)


def blend_kernels(previous: np.ndarray, new: np.ndarray, memory: float) -> np.ndarray:
    """``memory`` of the ``previous`` smoothed kernel and ``1 - memory`` of the ``new``
    estimate, both centred on their centre of mass on a common canvas; renormalised.

    Shape:
        - Input: two 2-D non-negative kernels of any sizes; output odd sides, sums to 1.

    Examples:
        >>> k = np.zeros((5, 5)); k[2, 1:4] = 1 / 3
        >>> bool(np.allclose(blend_kernels(k, np.roll(k, 1, axis=1), 0.7), k[1:4, 1:4]))
        True
    """
    if not 0.0 <= memory < 1.0:
        raise ValueError(f"memory must be in [0, 1), got {memory}")
    a, b = _common(previous, new)
    return _trim(memory * a + (1.0 - memory) * b)


def kernel_change(a: np.ndarray, b: np.ndarray) -> float:
    """How different two kernels are: the L1 distance of the two centred on a common
    canvas (0: the same shape; 2: nothing in common).

    Examples:
        >>> k = np.zeros((3, 3)); k[1, 1] = 1
        >>> kernel_change(k, np.pad(k, 2))
        0.0
    """
    a, b = _common(a, b)
    return float(np.abs(a - b).sum())


def blend_motions(
    previous: InplaneMotion, new: InplaneMotion, memory: float, scale: float = 1.0
) -> InplaneMotion:
    """A camera motion made of ``memory`` of ``previous``'s exposure and ``1 - memory`` of
    ``new``'s (the poses of both, weighted; poses that coincide are merged, and those
    whose weight falls under :data:`TRACE_FLOOR` of the largest dropped).

    Args:
        previous: The smoothed motion so far; its residuals are kept.
        new: This frame's fitted motion.
        memory: The weight of ``previous``, in [0, 1).
        scale: ``new``'s translations are multiplied by this to bring them to
            ``previous``'s scale.
    """
    if not 0.0 <= memory < 1.0:
        raise ValueError(f"memory must be in [0, 1), got {memory}")
    moved = np.asarray(new.poses, np.float64) * np.array([scale, scale, 1.0])
    poses = np.concatenate([np.asarray(previous.poses, np.float64), moved])
    weights = np.concatenate([memory * previous.weights, (1.0 - memory) * new.weights])
    poses, inverse = np.unique(np.round(poses, 6), axis=0, return_inverse=True)
    merged = np.bincount(inverse.ravel(), weights=weights, minlength=len(poses))
    kept = merged >= TRACE_FLOOR * merged.max()
    return dataclasses.replace(
        previous, poses=poses[kept], weights=merged[kept] / merged[kept].sum()
    )


@dataclasses.dataclass(frozen=True)
class VideoSettings:
    """How :class:`VideoDeblur` runs.

    Attributes:
        cut_colours: Histogram distance between consecutive frames above which (with
            ``cut_layout``) a shot starts (:data:`CUT_COLOURS`).
        cut_layout: Layout distance likewise (:data:`CUT_LAYOUT`).
        memory: The weight of the smoothed kernel (or camera motion) so far when a frame's
            own estimate is blended in; 0: every frame its own estimate (the decision is
            still one per shot).
        estimate_every: Estimate on every n-th frame of a shot only (the others keep the
            smoothed kernel): faster, as smooth.
    """

    cut_colours: float = CUT_COLOURS
    cut_layout: float = CUT_LAYOUT
    memory: float = 0.7
    estimate_every: int = 1

    def __post_init__(self) -> None:
        if not 0.0 < self.cut_colours <= 1.0:
            raise ValueError(f"cut_colours must be in (0, 1], got {self.cut_colours}")
        if self.cut_layout <= 0.0:
            raise ValueError(f"cut_layout must be positive, got {self.cut_layout}")
        if not 0.0 <= self.memory < 1.0:
            raise ValueError(f"memory must be in [0, 1), got {self.memory}")
        if self.estimate_every < 1:
            raise ValueError(f"estimate_every must be at least 1, got {self.estimate_every}")


@dataclasses.dataclass
class Shot:
    """One shot of a video and what was decided for it.

    Attributes:
        first: Index of its first frame (from 0).
        frames: How many frames it has had so far.
        outcome: ``none``, ``uniform``, ``varying`` or ``network``
            (:mod:`deblurgan.methods.auto`'s outcomes).
        words: The decision in plain words.
    """

    first: int
    frames: int
    outcome: str
    words: str

    def describe(self) -> str:
        """The shot and its decision for a run summary, frames counted from 1."""
        return f"frames {self.first + 1}-{self.first + self.frames}: {self.words}"


class VideoDeblur:
    """``l0`` or ``auto`` over the frames of ONE video, in order: one decision per shot,
    kernels smooth in time (see the module's text). Build a fresh one for every video.

    Args:
        method: The method, used only through its public interface.
        settings: Shot detection and smoothing.
    """

    def __init__(
        self, method: AutoDeblur | BlindDeconvolution, settings: VideoSettings | None = None
    ) -> None:
        if not isinstance(method, (AutoDeblur, BlindDeconvolution)):
            raise TypeError(f"VideoDeblur wraps l0 or auto, not {type(method).__name__}")
        self.method, self.options = method, settings or VideoSettings()
        self.name = method.name
        self.shots: list[Shot] = []
        self._blind = method.blind if isinstance(method, AutoDeblur) else method
        self._signature: tuple[np.ndarray, np.ndarray] | None = None
        self._kernel: np.ndarray | None = None  # the shot's smoothed kernel
        self._seen: Examination | None = None  # the shot's (smoothed) camera motion

    def restore(self, rgb: np.ndarray) -> Restoration:
        """Deblur the video's next ``(H, W, 3)`` frame in [0, 1]; ``kernel`` is the smoothed
        kernel used, ``decision`` (``auto``) or ``note`` (``l0``, left alone) the shot's."""
        if rgb.ndim != 3 or rgb.shape[-1] != 3:
            raise ValueError(f"expected an (H, W, 3) RGB array, got {rgb.shape}")
        rgb = rgb.astype(np.float32, copy=False)
        signature = (colour_histogram(rgb), frame_layout(rgb))
        cut = self._signature is None or _is_cut(
            self._signature, signature, self.options.cut_colours, self.options.cut_layout
        )
        self._signature = signature
        if cut:
            self._start_shot(rgb)
        else:
            self.shots[-1].frames += 1
            position = self.shots[-1].frames - 1
            if position % self.options.estimate_every == 0:
                self._follow(rgb)
        return self._apply(rgb, self.shots[-1])

    def _start_shot(self, rgb: np.ndarray) -> None:
        first = self.shots[-1].first + self.shots[-1].frames if self.shots else 0
        self._kernel, self._seen = None, None
        if isinstance(self.method, AutoDeblur):
            seen = self.method.examine(rgb)
            outcome, words = seen.decision.outcome, seen.decision.words
            if outcome == UNIFORM:
                self._kernel = seen.found.kernel
            elif outcome == VARYING:
                self._seen = seen
        else:
            found = self.method.estimate(rgb)
            if found.note is not None:
                outcome, words = NONE, f"{found.note}; returned unchanged"
            else:
                self._kernel = found.kernel
                outcome, words = UNIFORM, f"camera shake, kernel {found.kernel.shape[0]} px"
        self.shots.append(Shot(first, 1, outcome, words))

    def _follow(self, rgb: np.ndarray) -> None:
        """Blend this frame's own estimate into the shot's kernel or camera motion."""
        memory, outcome = self.options.memory, self.shots[-1].outcome
        if outcome == UNIFORM:
            found = self._blind.estimate(rgb)
            if found.note is None:  # a frame where no blur shows keeps the smoothed kernel
                self._kernel = blend_kernels(self._kernel, found.kernel, memory)
        elif outcome == VARYING:
            seen, ref = self.method.examine(rgb), self._seen
            if seen.motion is not None:
                scale = (seen.found.scale * seen.local_scale) / (ref.found.scale * ref.local_scale)
                motion = blend_motions(ref.motion, seen.motion, memory, 1.0 / scale)
                size = max(ref.local_size, int(np.ceil(seen.local_size / scale)) | 1)
                self._seen = dataclasses.replace(ref, motion=motion, local_size=size)

    def _apply(self, rgb: np.ndarray, shot: Shot) -> Restoration:
        if shot.outcome == NONE:
            if isinstance(self.method, AutoDeblur):
                return Restoration(rgb, decision=shot.words)
            return Restoration(rgb, note=shot.words)
        if shot.outcome == NETWORK:
            restored = self.method.network().restore(rgb)
            return dataclasses.replace(restored, decision=shot.words)
        decision = shot.words if isinstance(self.method, AutoDeblur) else None
        if shot.outcome == UNIFORM:
            sharp = self._blind.deconvolve(rgb, self._kernel)
            return Restoration(sharp, self._kernel, decision=decision)
        sharp, mosaic = self.method.remove_varying(rgb, self._seen)
        return Restoration(sharp, mosaic, decision=decision)

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """Deblur the next ``(H, W, 3)`` frame, or the next frames as an ``(N, H, W, 3)``
        stack (in order)."""
        if rgb.ndim == 4:
            return np.stack([self.restore(frame).rgb for frame in rgb])
        return self.restore(rgb).rgb

    def decisions(self) -> list[str]:
        """One line per shot so far: its frames and its decision."""
        return [shot.describe() for shot in self.shots]

    def settings(self) -> dict[str, Any]:
        """What a report records: the method's settings and the smoothing."""
        return {**self.method.settings(), **dataclasses.asdict(self.options)}


def for_video(
    method: DeblurMethod, settings: VideoSettings | None = None
) -> VideoDeblur | DeblurMethod:
    """What one video's frames go through: a fresh :class:`VideoDeblur` for ``l0`` and
    ``auto``, the method itself for any other (the network is stateless, and takes
    stacks of frames at once)."""
    if isinstance(method, (AutoDeblur, BlindDeconvolution)):
        return VideoDeblur(method, settings)
    return method
