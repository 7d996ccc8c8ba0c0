"""Random motion-blur kernels: trajectories rendered into PSFs, in bounded-memory batches."""

from __future__ import annotations

import dataclasses

import numpy as np

from deblurgan.blur.psf import DEFAULT_EXPOSURES, render_psfs
from deblurgan.blur.speed import vary_speed
from deblurgan.blur.trajectory import (
    DEFAULT_PRESET,
    draw_trajectory_randomness,
    trajectories_from_draws,
)

CHUNK = 2048  # trajectories per pass: bounds the per-step random arrays to about 50 MB


@dataclasses.dataclass(frozen=True)
class KernelBatch:
    """Sampled kernels and the parameters that made them.

    Attributes:
        kernels: Float32, non-negative, each summing to 1 and centred (centre of
            mass at pixel ``size // 2``); shape (N, E, size, size), one per exposure.
        exposures: The exposure fractions, length E.
        parameters: Per-kernel trajectory parameters (``inertia``, ``big_shake``,
            ``gaussian``, ``impulsiveness``, ``angle``), each shape (N,).
    """

    kernels: np.ndarray
    exposures: tuple[float, ...]
    parameters: dict[str, np.ndarray]

    def record(self, index: int) -> dict[str, float]:
        """The parameters of kernel ``index`` as plain floats (for a manifest)."""
        return {name: float(values[index]) for name, values in self.parameters.items()}


def sample_kernels(
    n: int,
    rng: np.random.Generator,
    preset: str = DEFAULT_PRESET,
    size: int = 64,
    exposures: tuple[float, ...] = DEFAULT_EXPOSURES,
    steps: int = 2000,
    max_length: float = 60.0,
    speed_variation: float = 0.0,
) -> KernelBatch:
    """Sample ``n`` random camera-shake kernels at each exposure fraction.

    Args:
        n: Number of kernels.
        rng: Source of randomness; the same seed and arguments give the same
            kernels bit for bit.
        preset: Trajectory preset, ``"reference-code"`` (default) or ``"paper"``.
        size: Kernel canvas side.
        exposures: Fractions of the trajectory rendered (the recipe's 10%, 50% and
            100% by default; one is picked per image).
        steps: Trajectory points (``M``).
        max_length: Trajectory length in pixels (``L_max``).
        speed_variation: Standard deviation of the log of the hand's speed during the
            exposure (:func:`~deblurgan.blur.speed.vary_speed`); 0 (default): constant
            speed, as the recipe's trajectories. Where the hand dwelt pulls the centre of
            mass towards it, so a path may need a larger ``size`` than at constant speed.

    Examples:
        >>> batch = sample_kernels(2, np.random.default_rng(0), size=64)
        >>> batch.kernels.shape
        (2, 3, 64, 64)
        >>> bool(np.allclose(batch.kernels.sum(axis=(2, 3)), 1.0, atol=1e-5))
        True
    """
    kernels = np.empty((n, len(exposures), size, size), dtype=np.float32)
    parameters: dict[str, list[np.ndarray]] = {}
    for start in range(0, n, CHUNK):
        draws = draw_trajectory_randomness(min(CHUNK, n - start), rng, preset, steps)
        paths = trajectories_from_draws(draws, max_length)
        if speed_variation > 0:
            paths = vary_speed(paths, rng, speed_variation)
        render_psfs(paths, exposures, size, out=kernels[start : start + len(paths)])
        for name in ("inertia", "big_shake", "gaussian", "impulsiveness", "angle"):
            parameters.setdefault(name, []).append(getattr(draws, name))
    return KernelBatch(
        kernels=kernels,
        exposures=tuple(exposures),
        parameters={k: np.concatenate(v) for k, v in parameters.items()},
    )
