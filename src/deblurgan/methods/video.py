"""Videos through ``l0`` and ``auto`` with state per video: one decision per shot, and
kernels that change smoothly from frame to frame, so the output does not flicker.

Passed frame by frame, blind deconvolution decides and estimates afresh on every frame: a
shaky clip comes out with some frames left alone ("no blur found") and others deconvolved,
and with kernels that jump. :class:`VideoDeblur` wraps one method for ONE video:

1. **Shots.** A frame whose colours and layout both differ from the previous frame's
   starts a new shot (:func:`~deblurgan.methods.shots.is_cut`).
2. **One decision per shot,** by a vote of its first ``decide_on`` frames (3): ``auto``'s
   :meth:`~deblurgan.methods.auto.AutoDeblur.examine` (no blur, one kernel, kernels that
   vary, the network) or ``l0``'s blur verdict (no blur or a failed estimate: left
   alone; else deconvolved) on each; every frame follows the majority so far, so a shot
   changes its treatment at most once, within those frames, and keeps it to its end.
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

import collections
import dataclasses
from typing import Any

import numpy as np

from deblurgan.deconv.blind import BlindDeconvolution
from deblurgan.deconv.motion_fit import InplaneMotion
from deblurgan.methods.auto import AutoDeblur, Examination
from deblurgan.methods.decision import NETWORK, NONE, UNIFORM, VARYING
from deblurgan.methods.shots import CUT_COLOURS, CUT_LAYOUT, frame_signature, is_cut
from deblurgan.restoration import DeblurMethod, Restoration

__all__ = [
    "Shot",
    "VideoDeblur",
    "VideoSettings",
    "blend_kernels",
    "blend_motions",
    "for_video",
    "kernel_change",
]

TRACE_FLOOR = 1e-3  # blended kernel values under this fraction of the peak are dropped


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
        decide_on: The shot's decision is the outcome most of its first this many frames
            say (each frame follows the majority so far: a shot changes its treatment
            at most at one of these frames, and never after); 1: its first frame alone.
        memory: The weight of the smoothed kernel (or camera motion) so far when a frame's
            own estimate is blended in; 0: every frame its own estimate (the decision is
            still one per shot). Chosen on the training clip of
            ``benchmarks/video_flicker.py`` (docs/video.md): the most memory that cost no
            PSNR; more flickered less but lagged a shake that grows, and lost PSNR.
        estimate_every: Estimate on every n-th frame of a shot only (the others keep the
            smoothed kernel): faster.
    """

    cut_colours: float = CUT_COLOURS
    cut_layout: float = CUT_LAYOUT
    decide_on: int = 3
    memory: float = 0.5
    estimate_every: int = 1

    def __post_init__(self) -> None:
        if not 0.0 < self.cut_colours <= 1.0:
            raise ValueError(f"cut_colours must be in (0, 1], got {self.cut_colours}")
        if self.cut_layout <= 0.0:
            raise ValueError(f"cut_layout must be positive, got {self.cut_layout}")
        if not 0.0 <= self.memory < 1.0:
            raise ValueError(f"memory must be in [0, 1), got {self.memory}")
        if self.decide_on < 1:
            raise ValueError(f"decide_on must be at least 1, got {self.decide_on}")
        if self.estimate_every < 1:
            raise ValueError(f"estimate_every must be at least 1, got {self.estimate_every}")


@dataclasses.dataclass(frozen=True)
class _Look:
    """What one frame's own examination says: its outcome, in words, and the kernel
    (uniform shake) at the display gamma it was estimated at, or the examination with a
    camera motion (shake that varies) it found."""

    outcome: str
    words: str
    kernel: np.ndarray | None = None
    seen: Examination | None = None
    gamma: float = 1.0


@dataclasses.dataclass
class Shot:
    """One shot of a video and what was decided for it.

    Attributes:
        first: Index of its first frame (from 0).
        frames: How many frames it has had so far.
        outcome: ``none``, ``uniform``, ``varying`` or ``network``
            (:mod:`deblurgan.methods.decision`'s outcomes).
        words: The decision in plain words.
        votes: Each voting frame's own outcome (the first ``decide_on`` frames).
    """

    first: int
    frames: int
    outcome: str
    words: str
    votes: list[str] = dataclasses.field(default_factory=list)

    def describe(self) -> str:
        """The shot and its decision for a run summary, frames counted from 1."""
        said = collections.Counter(self.votes)
        tally = ", ".join(f"{outcome} {count}" for outcome, count in said.items())
        basis = f" (frames voted: {tally})" if len(said) > 1 else ""
        return f"frames {self.first + 1}-{self.first + self.frames}: {self.words}{basis}"


class VideoDeblur:
    """``l0`` or ``auto`` over the frames of ONE video, in order: one decision per shot,
    kernels smooth in time (see the module's text). Build a fresh one for every video.

    Args:
        method: The method, used only through its public interface.
        settings: Shot detection, the vote and smoothing.
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
        self._looks: list[_Look] = []  # the voting frames' own examinations
        self._kernel: np.ndarray | None = None  # the shot's smoothed kernel
        self._gamma = 1.0  # the display gamma the shot's kernel is removed at (its first's)
        self._seen: Examination | None = None  # the shot's (smoothed) camera motion

    def restore(self, rgb: np.ndarray) -> Restoration:
        """Deblur the video's next ``(H, W, 3)`` frame in [0, 1]; ``kernel`` is the smoothed
        kernel used, ``decision`` (``auto``) or ``note`` (``l0``, left alone) the shot's."""
        if rgb.ndim != 3 or rgb.shape[-1] != 3:
            raise ValueError(f"expected an (H, W, 3) RGB array, got {rgb.shape}")
        rgb = rgb.astype(np.float32, copy=False)
        signature = frame_signature(rgb)
        options = self.options
        cut = self._signature is None or is_cut(
            self._signature, signature, options.cut_colours, options.cut_layout
        )
        if cut:
            first = self.shots[-1].first + self.shots[-1].frames if self.shots else 0
            self.shots.append(Shot(first, 0, "", ""))
            self._looks = []
        self._signature = signature
        shot = self.shots[-1]
        shot.frames += 1
        if shot.frames <= options.decide_on:
            self._vote(self._look(rgb))
        elif (shot.frames - 1) % options.estimate_every == 0:
            self._follow(rgb)
        return self._apply(rgb, shot)

    def _look(self, rgb: np.ndarray) -> _Look:
        if isinstance(self.method, AutoDeblur):
            seen = self.method.examine(rgb)
            kernel = seen.found.kernel if seen.found.note is None else None
            motion = seen if seen.motion is not None else None
            decision = seen.decision
            return _Look(decision.outcome, decision.words, kernel, motion, seen.found.gamma)
        found = self.method.estimate(rgb)
        if found.note is not None:
            return _Look(NONE, f"{found.note}; returned unchanged")
        words = f"camera shake, kernel {found.kernel.shape[0]} px"
        return _Look(UNIFORM, words, found.kernel, gamma=found.gamma)

    def _vote(self, look: _Look) -> None:
        """Count a voting frame; the shot takes the outcome most of its frames said so far
        (a tie keeps the current one) and its state from those frames."""
        shot = self.shots[-1]
        self._looks.append(look)
        shot.votes.append(look.outcome)
        counts = collections.Counter(shot.votes)
        best = max(counts.values())
        if counts.get(shot.outcome, 0) < best:  # a new majority: rebuild the state from it
            shot.outcome = next(o for o in shot.votes if counts[o] == best)
            self._kernel, self._seen = None, None
            for earlier in self._looks[:-1]:
                self._blend(earlier)
        agreeing = [earlier for earlier in self._looks if earlier.outcome == shot.outcome]
        shot.words = agreeing[-1].words
        self._blend(look)

    def _follow(self, rgb: np.ndarray) -> None:
        """Blend this frame's own estimate into the shot's kernel or camera motion."""
        outcome = self.shots[-1].outcome
        if outcome == UNIFORM:
            # estimated at the shot's gamma only: its kernel is removed at one gamma
            blind = self._blind
            settings = dataclasses.replace(blind.options, gammas=(self._gamma,))
            at_gamma = BlindDeconvolution(
                blind.kernel_size, blind.progress, blind.on_stage, settings
            )
            found = at_gamma.estimate(rgb)
            if found.note is None:  # a frame where no blur shows keeps the smoothed kernel
                self._blend(_Look(UNIFORM, "", found.kernel, gamma=found.gamma))
        elif outcome == VARYING:
            seen = self.method.examine(rgb)
            self._blend(_Look(VARYING, "", None, seen if seen.motion is not None else None))

    def _blend(self, look: _Look) -> None:
        memory, outcome = self.options.memory, self.shots[-1].outcome
        if outcome == UNIFORM and look.kernel is not None:
            previous = self._kernel
            if previous is None:
                self._kernel, self._gamma = look.kernel, look.gamma
            elif look.gamma == self._gamma:  # a kernel found at another gamma is left out
                self._kernel = blend_kernels(previous, look.kernel, memory)
        elif outcome == VARYING and look.seen is not None:
            seen, ref = look.seen, self._seen
            if ref is None:
                self._seen = seen
                return
            if seen.found.gamma != ref.found.gamma:  # fitted at another gamma: left out
                return
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
            sharp = self._blind.deconvolve(rgb, self._kernel, self._gamma)
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
