"""The random-blur recipe: how one sharp image becomes a training pair, in one schema.

:class:`BlurSettings` is the single description of blur used by training
(``data.blur``), ``deblurgan synth`` and the dataset builders. Random blur has
modes, mixed by weights; each mode is one entry of :data:`BLUR_MODES` (its name,
default weight and sampler):

- ``kernel``: one random camera-shake kernel per image (paper section 4,
  :mod:`deblurgan.blur.kernels`), uniform over the image.
- ``scene``: dynamic-scene blur (:mod:`deblurgan.blur.scene`): sub-frames along a
  random camera path with moving foreground layers, averaged in linear light,
  with optional camera effects.

A mode needing parameters of its own also gets a section (a field) here, as
``kernel`` and ``scene`` have. Real blur from high-fps frames (``averaging``) is
part of the same recipe.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import ClassVar

import numpy as np

from deblurgan.blur.apply import blur_image
from deblurgan.blur.camera import CameraEffects
from deblurgan.blur.frames import FrameAveraging
from deblurgan.blur.kernels import sample_kernels
from deblurgan.blur.psf import DEFAULT_EXPOSURES
from deblurgan.blur.scene import SceneMotion, synthesize_scene_pair
from deblurgan.blur.trajectory import DEFAULT_PRESET, PRESETS
from deblurgan.schema import plain

LoadLayers = Callable[[], tuple[np.ndarray, ...]]


@dataclasses.dataclass(frozen=True)
class KernelBlur:
    """Random camera-shake kernels (paper section 4).

    Attributes:
        preset: Trajectory preset, a name of :data:`deblurgan.blur.trajectory.PRESETS`.
        kernel_size: Kernel canvas side.
        exposures: Exposure fractions, one drawn per pair (the authors' code draws
            among 10%, 50% and 100% of the trajectory).
        linear_light: Blur in linear light (gamma 2.2) instead of on encoded values.
        noise_std: Gaussian noise standard deviation in [0, 1] units.
        poisson_peak: Shot noise photon count at white, or None.
    """

    preset: str = DEFAULT_PRESET
    kernel_size: int = 64
    exposures: tuple[float, ...] = DEFAULT_EXPOSURES
    linear_light: bool = False
    noise_std: float = 0.0
    poisson_peak: float | None = None

    def __post_init__(self) -> None:
        if self.preset not in PRESETS:
            raise ValueError(
                f"preset: {self.preset!r} is not one of {', '.join(map(repr, PRESETS))}"
            )
        if self.kernel_size < 8:
            raise ValueError(f"kernel_size: must be >= 8, got {self.kernel_size}")
        if not self.exposures or not all(0 < e <= 1 for e in self.exposures):
            raise ValueError(f"exposures: fractions in (0, 1] expected, got {self.exposures}")
        if not 0 <= self.noise_std <= 1:
            raise ValueError(f"noise_std: must be in [0, 1], got {self.noise_std}")
        if self.poisson_peak is not None and self.poisson_peak <= 0:
            raise ValueError(f"poisson_peak: must be positive, got {self.poisson_peak}")


@dataclasses.dataclass(frozen=True)
class BlurSettings:
    """How sharp images are blurred: the modes' weights and their parameters.

    Attributes:
        weights: Relative share of each mode of :data:`BLUR_MODES`, by name; a mode
            left out keeps its default weight (``kernel`` 1, others 0).
        kernel: Parameters of the kernel mode.
        scene: Motion of the scene mode.
        effects: Camera effects of the scene mode.
        averaging: Frame averaging of real high-fps frames (``synth --frames``).
    """

    # configuration keys of earlier versions, still read
    renamed_keys: ClassVar[dict[str, str]] = {
        "kernel_weight": "weights.kernel",
        "scene_weight": "weights.scene",
    }

    weights: dict[str, float] = dataclasses.field(default_factory=dict)
    kernel: KernelBlur = KernelBlur()
    scene: SceneMotion = SceneMotion()
    effects: CameraEffects = CameraEffects()
    averaging: FrameAveraging = FrameAveraging()

    def __post_init__(self) -> None:
        unknown = sorted(set(self.weights) - set(BLUR_MODES))
        if unknown:
            raise ValueError(
                f"weights: unknown blur mode {unknown[0]!r}; modes: {', '.join(BLUR_MODES)}"
            )
        weights = {
            name: float(self.weights.get(name, mode.default_weight))
            for name, mode in BLUR_MODES.items()
        }
        if min(weights.values()) < 0 or sum(weights.values()) <= 0:
            raise ValueError(f"weights: must be >= 0 and not all 0, got {weights}")
        object.__setattr__(self, "weights", weights)  # every mode's weight, in table order

    @classmethod
    def only(cls, mode: str, **parts) -> BlurSettings:
        """Settings that use one mode: ``BlurSettings.only("scene", scene=SceneMotion(...))``."""
        if mode not in BLUR_MODES:
            raise ValueError(f"mode: {mode!r} is not one of {', '.join(BLUR_MODES)}")
        return cls(weights={name: float(name == mode) for name in BLUR_MODES}, **parts)

    def draw_mode(self, rng: np.random.Generator) -> str:
        """A mode's name, in proportion to the weights (one uniform draw).

        The modes share [0, 1) by weight, the last table entry lowest, so that the
        two original modes are drawn as in earlier versions for the same seed.
        """
        drawn = rng.random()
        total = sum(self.weights.values())
        threshold, chosen = 0.0, None
        for name in reversed(list(self.weights)):
            if self.weights[name] > 0:
                threshold, chosen = threshold + self.weights[name], name
                if drawn < threshold / total:
                    return name
        return chosen  # rounding left ``drawn`` above the last threshold

    def uses_layers(self) -> bool:
        """Whether a sample may read another image (``load_layers`` of :func:`synthetic_pair`)."""
        return any(
            weight > 0 and BLUR_MODES[name].uses_layers(self)
            for name, weight in self.weights.items()
        )

    def in_use(self) -> dict:
        """The settings that shape the pairs, as plain data (for a manifest): the weights and
        the sections of the modes with a weight."""
        sections = [
            section
            for name, weight in self.weights.items()
            if weight > 0
            for section in BLUR_MODES[name].sections
        ]
        return {"weights": dict(self.weights), **{s: plain(getattr(self, s)) for s in sections}}


@dataclasses.dataclass(frozen=True)
class SyntheticPair:
    """A blurred image, its sharp target, and what made it.

    Attributes:
        blurred: The blurred image, the input's shape and dtype.
        sharp: The sharp target, the input's shape and dtype.
        kernel: The blur kernel (kernel mode), else None.
        record: Drawn parameters as plain numbers (for a manifest).
    """

    blurred: np.ndarray
    sharp: np.ndarray
    kernel: np.ndarray | None
    record: dict


def kernel_pair(
    sharp: np.ndarray,
    settings: BlurSettings,
    rng: np.random.Generator,
    load_layers: LoadLayers | None = None,
) -> SyntheticPair:
    """The ``kernel`` mode: one random camera-shake kernel, exposure drawn from the settings.

    Shape:
        - sharp: :math:`(H, W)` or :math:`(H, W, C)`; outputs have the same shape and dtype.
    """
    k = settings.kernel
    batch = sample_kernels(1, rng, k.preset, k.kernel_size, k.exposures)
    choice = int(rng.integers(len(k.exposures)))
    kernel = batch.kernels[0, choice]
    blurred = blur_image(
        sharp, kernel, k.linear_light, noise_std=k.noise_std, poisson_peak=k.poisson_peak, rng=rng
    )
    record = {**plain(k), "exposure": k.exposures[choice], **batch.record(0)}
    return SyntheticPair(blurred, sharp, kernel, record)


def scene_pair(
    sharp: np.ndarray,
    settings: BlurSettings,
    rng: np.random.Generator,
    load_layers: LoadLayers | None = None,
) -> SyntheticPair:
    """The ``scene`` mode: dynamic-scene blur, moving layers cut from ``load_layers()``.

    Shape:
        - sharp: :math:`(H, W)` or :math:`(H, W, C)`; outputs have the same shape and dtype.
    """
    layers = load_layers() if load_layers is not None else ()
    pair = synthesize_scene_pair(sharp, rng, settings.scene, settings.effects, layers)
    return SyntheticPair(pair.blurred, pair.sharp, None, pair.record)


@dataclasses.dataclass(frozen=True)
class BlurMode:
    """One entry of :data:`BLUR_MODES`.

    Attributes:
        sample: ``sample(sharp, settings, rng, load_layers)``: the pair (its record
            without the mode's name).
        default_weight: The mode's weight where the settings do not name it.
        uses_layers: Whether the sampler, under these settings, calls ``load_layers``.
        sections: The fields of :class:`BlurSettings` the sampler reads.
    """

    sample: Callable[
        [np.ndarray, BlurSettings, np.random.Generator, LoadLayers | None], SyntheticPair
    ]
    default_weight: float = 0.0
    uses_layers: Callable[[BlurSettings], bool] = lambda settings: False
    sections: tuple[str, ...] = ()


# name -> mode: the one place a blur mode is added
BLUR_MODES: dict[str, BlurMode] = {
    "kernel": BlurMode(kernel_pair, default_weight=1.0, sections=("kernel",)),
    "scene": BlurMode(
        scene_pair,
        uses_layers=lambda settings: settings.scene.objects[1] > 0,
        sections=("scene", "effects"),
    ),
}


def synthetic_pair(
    sharp: np.ndarray,
    settings: BlurSettings,
    rng: np.random.Generator,
    load_layers: LoadLayers | None = None,
) -> SyntheticPair:
    """Blur ``sharp`` by a mode drawn from ``settings``.

    Args:
        sharp: uint8, uint16 or float (in [0, 1]) pixels, gray or colour.
        settings: The recipe.
        rng: Source of all randomness (same seed, same pair).
        load_layers: Returns images to cut moving layers from; called only when a
            sample's mode uses them (it may read files).

    Shape:
        - sharp: :math:`(H, W)` or :math:`(H, W, C)`; outputs have the same shape and dtype.
    """
    mode = settings.draw_mode(rng)
    pair = BLUR_MODES[mode].sample(sharp, settings, rng, load_layers)
    return dataclasses.replace(pair, record={"mode": mode, **pair.record})
