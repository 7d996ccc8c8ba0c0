"""The random-blur recipe: how one sharp image becomes a training pair, in one schema.

:class:`BlurSettings` is the single description of random blur used by training
(``data.blur``), ``deblurgan synth`` and the dataset builders. Two modes, mixed
by weights:

- ``kernel``: one random camera-shake kernel per image (paper section 4,
  :mod:`deblurgan.blur.kernels`), uniform over the image.
- ``scene``: dynamic-scene blur (:mod:`deblurgan.blur.scene`): sub-frames along a
  random camera path with moving foreground layers, averaged in linear light,
  with optional camera effects.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Literal

import numpy as np

from deblurgan.blur.apply import blur_image
from deblurgan.blur.camera import CameraEffects
from deblurgan.blur.kernels import sample_kernels
from deblurgan.blur.scene import SceneMotion, synthesize_scene_pair
from deblurgan.schema import plain

MODES = ("kernel", "scene")


@dataclasses.dataclass(frozen=True)
class KernelBlur:
    """Random camera-shake kernels (paper section 4).

    Attributes:
        preset: Trajectory preset (``reference-code`` or ``paper``).
        kernel_size: Kernel canvas side.
        exposures: Exposure fractions, one drawn per pair (the authors' code draws
            among 10%, 50% and 100% of the trajectory).
        linear_light: Blur in linear light (gamma 2.2) instead of on encoded values.
        noise_std: Gaussian noise standard deviation in [0, 1] units.
        poisson_peak: Shot noise photon count at white, or None.
    """

    preset: Literal["reference-code", "paper"] = "reference-code"
    kernel_size: int = 64
    exposures: tuple[float, ...] = (0.1, 0.5, 1.0)
    linear_light: bool = False
    noise_std: float = 0.0
    poisson_peak: float | None = None

    def __post_init__(self) -> None:
        if self.kernel_size < 8:
            raise ValueError(f"kernel_size: must be >= 8, got {self.kernel_size}")
        if not self.exposures or not all(0 < e <= 1 for e in self.exposures):
            raise ValueError(f"exposures: fractions in (0, 1] expected, got {self.exposures}")
        if self.noise_std < 0:
            raise ValueError(f"noise_std: must be >= 0, got {self.noise_std}")
        if self.poisson_peak is not None and self.poisson_peak <= 0:
            raise ValueError(f"poisson_peak: must be positive, got {self.poisson_peak}")


@dataclasses.dataclass(frozen=True)
class BlurSettings:
    """How sharp images are blurred: the modes, their weights and their parameters.

    Attributes:
        kernel_weight: Relative share of ``kernel`` samples.
        scene_weight: Relative share of ``scene`` samples.
        kernel: Parameters of the kernel mode.
        scene: Motion of the scene mode.
        effects: Camera effects of the scene mode.
    """

    kernel_weight: float = 1.0
    scene_weight: float = 0.0
    kernel: KernelBlur = KernelBlur()
    scene: SceneMotion = SceneMotion()
    effects: CameraEffects = CameraEffects()

    def __post_init__(self) -> None:
        weights = (self.kernel_weight, self.scene_weight)
        if min(weights) < 0 or sum(weights) <= 0:
            raise ValueError(
                f"kernel_weight, scene_weight: must be >= 0 and not both 0, got {weights}"
            )

    @classmethod
    def only(cls, mode: str, **parts) -> BlurSettings:
        """Settings that use one mode: ``BlurSettings.only("scene", scene=SceneMotion(...))``."""
        if mode not in MODES:
            raise ValueError(f"mode: {mode!r} is not one of {', '.join(MODES)}")
        return cls(
            kernel_weight=float(mode == "kernel"), scene_weight=float(mode == "scene"), **parts
        )

    def draw_mode(self, rng: np.random.Generator) -> str:
        """``"kernel"`` or ``"scene"``, in proportion to the weights."""
        share = self.scene_weight / (self.kernel_weight + self.scene_weight)
        return "scene" if rng.random() < share else "kernel"


@dataclasses.dataclass(frozen=True)
class SyntheticPair:
    """A blurred image, its sharp target, and what made it.

    Attributes:
        kernel: The blur kernel (kernel mode), else None.
        record: Drawn parameters as plain numbers (for a manifest).
    """

    blurred: np.ndarray
    sharp: np.ndarray
    kernel: np.ndarray | None
    record: dict


def synthetic_pair(
    sharp: np.ndarray,
    settings: BlurSettings,
    rng: np.random.Generator,
    load_layers: Callable[[], tuple[np.ndarray, ...]] | None = None,
) -> SyntheticPair:
    """Blur ``sharp`` by a mode drawn from ``settings``.

    Args:
        sharp: uint8, uint16 or float (in [0, 1]) pixels, gray or colour.
        settings: The recipe.
        rng: Source of all randomness (same seed, same pair).
        load_layers: Returns images to cut the scene mode's moving layers from; called
            only when a sample uses the scene mode (it may read files).

    Shape:
        - sharp: :math:`(H, W)` or :math:`(H, W, C)`; outputs have the same shape and dtype.
    """
    mode = settings.draw_mode(rng)
    if mode == "scene":
        layers = load_layers() if load_layers is not None else ()
        pair = synthesize_scene_pair(sharp, rng, settings.scene, settings.effects, layers)
        return SyntheticPair(pair.blurred, pair.sharp, None, {"mode": mode, **pair.record})
    k = settings.kernel
    batch = sample_kernels(1, rng, k.preset, k.kernel_size, k.exposures)
    choice = int(rng.integers(len(k.exposures)))
    kernel = batch.kernels[0, choice]
    blurred = blur_image(
        sharp, kernel, k.linear_light, noise_std=k.noise_std, poisson_peak=k.poisson_peak, rng=rng
    )
    record = {"mode": mode, **plain(k), "exposure": k.exposures[choice], **batch.record(0)}
    return SyntheticPair(blurred, sharp, kernel, record)
