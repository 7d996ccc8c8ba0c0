"""Random camera-shake trajectories (Boracchi and Foi 2012; DeblurGAN Algorithm 1).

A trajectory is ``M`` complex positions of a point moving with inertia: at
every step its velocity receives a Gaussian kick, a pull back towards the
start (the "inertia" / centripetal term) and, rarely, an impulsive "big
shake" that turns it around; the velocity is then renormalised so each step
has length ``L_max / (M - 1)`` and the whole path is exactly ``L_max`` long.

Two parameter presets are provided:

``paper`` -- the printed Algorithm 1: impulsive-shake probability
``p_s = 0.001``, Gaussian weight ``p_g ~ U(0, 0.7)``. The printed line 10,
``p_g * (randn + i randn) * I * x[t]``, is read as Boracchi and Foi's
``p_g * (randn + i randn) - I * x[t]`` (the product is a typo: it would make
the kick vanish at the start, where ``x = 0``), and its ``randn < p_b * p_s``
test as a uniform draw, as in both codes. With these numbers the kick is
about 1/1000 of the step, so paths are nearly straight 60 px lines.

``reference-code`` -- the authors' released ``generate_trajectory.py`` and
README: "explosiveness" ``expl`` drawn from {0.003, 0.005, 0.007, 0.008,
0.009, 0.01} in place of ``p_s`` and Gaussian weight ``U(0, 10)``. The code
also starts from ``v0 * expl`` instead of ``v0 * L_max / (M - 1)``; that
changes only the first of 2000 steps (the velocity is renormalised at once)
and is not reproduced. Paths curl and turn back like real camera shake.

Both share ``I ~ U(0, 0.7)``, ``p_b ~ U(0, 0.2)``, ``phi ~ U(0, 2 pi)``,
``M = 2000`` and ``L_max = 60``. The default is ``reference-code``: its
kernels match the support size and curvature of the real Levin et al. (2009)
kernels far better (``benchmarks/blur_kernel_realism.py``).
"""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class TrajectoryPreset:
    """Distributions of the per-trajectory parameters.

    Attributes:
        inertia_max: Centripetal weight ``I ~ U(0, inertia_max)``.
        big_shake_max: Big-shake probability ``p_b ~ U(0, big_shake_max)``.
        gaussian_max: Gaussian-kick weight ``p_g ~ U(0, gaussian_max)``.
        impulsiveness: Values of ``p_s`` (``expl``), one drawn uniformly per trajectory.
    """

    inertia_max: float
    big_shake_max: float
    gaussian_max: float
    impulsiveness: tuple[float, ...]


PRESETS: dict[str, TrajectoryPreset] = {
    "paper": TrajectoryPreset(0.7, 0.2, 0.7, (0.001,)),
    "reference-code": TrajectoryPreset(0.7, 0.2, 10.0, (0.003, 0.005, 0.007, 0.008, 0.009, 0.01)),
}
DEFAULT_PRESET = "reference-code"


@dataclasses.dataclass(frozen=True)
class TrajectoryDraws:
    """Every random number behind a batch of trajectories.

    Attributes:
        inertia, big_shake, gaussian, impulsiveness, angle: Per-trajectory
            parameters, shape (N,).
        shaking: Whether step t of trajectory i has a big shake (a uniform draw
            below ``big_shake * impulsiveness``), bool (M-1, N).
        shake_turn: Uniform draws for the big-shake turns ``pi + (u - 0.5)``, one
            per True entry of ``shaking`` in row-major order.
        kick: Complex standard normal kicks (float32 parts), (M-1, N).

    The per-step arrays are step-major so that one step of all trajectories
    is one contiguous row.
    """

    inertia: np.ndarray
    big_shake: np.ndarray
    gaussian: np.ndarray
    impulsiveness: np.ndarray
    angle: np.ndarray
    shaking: np.ndarray
    shake_turn: np.ndarray
    kick: np.ndarray


def draw_trajectory_randomness(
    n: int, rng: np.random.Generator, preset: str = DEFAULT_PRESET, steps: int = 2000
) -> TrajectoryDraws:
    """Draw all random numbers for ``n`` trajectories, in a fixed order."""
    if preset not in PRESETS:
        raise ValueError(f"unknown trajectory preset {preset!r}; choose one of {sorted(PRESETS)}")
    if n < 0 or steps < 2:
        raise ValueError(f"need n >= 0 and steps >= 2, got n={n}, steps={steps}")
    p = PRESETS[preset]
    inertia = rng.uniform(0.0, p.inertia_max, n)
    big_shake = rng.uniform(0.0, p.big_shake_max, n)
    gaussian = rng.uniform(0.0, p.gaussian_max, n)
    impulsiveness = rng.choice(np.asarray(p.impulsiveness), n)
    angle = rng.uniform(0.0, 2.0 * np.pi, n)
    shape = (steps - 1, n)
    shaking = rng.random(shape) < big_shake * impulsiveness
    shake_turn = rng.random(int(np.count_nonzero(shaking)))
    kick = np.empty(shape, dtype=np.complex64)
    kick.real = rng.standard_normal(shape, dtype=np.float32)
    kick.imag = rng.standard_normal(shape, dtype=np.float32)
    return TrajectoryDraws(
        inertia, big_shake, gaussian, impulsiveness, angle, shaking, shake_turn, kick
    )


def trajectories_from_draws(draws: TrajectoryDraws, max_length: float = 60.0) -> np.ndarray:
    """Run the trajectory recurrence for all draws at once (vectorised over trajectories).

    Returns:
        Complex positions, starting at 0, shape (N, M) (a transposed view of the
        step-major working array: no copy).
    """
    steps, n = draws.kick.shape[0] + 1, draws.kick.shape[1]
    step = max_length / (steps - 1)
    # Everything that does not depend on the path is computed for all steps up front.
    turn = np.zeros(draws.shaking.shape, dtype=np.complex128)
    turn[draws.shaking] = 2.0 * np.exp(1j * (np.pi + draws.shake_turn - 0.5))
    shake_steps = np.flatnonzero(draws.shaking.any(axis=1))
    push = draws.kick * (draws.impulsiveness * draws.gaussian * step)
    pull = draws.impulsiveness * draws.inertia * step
    x = np.zeros((steps, n), dtype=np.complex128)
    v = np.exp(1j * draws.angle) * step
    speed = np.empty(n)
    shake_at = set(shake_steps.tolist())
    for t in range(steps - 1):
        if t in shake_at:  # rare: about one step in a thousand has a big shake
            v = v + v * turn[t]
        v += push[t]
        v -= pull * x[t]
        np.abs(v, out=speed)
        v *= step / speed
        np.add(x[t], v, out=x[t + 1])
    return x.T


def trajectory_loop(draws: TrajectoryDraws, index: int, max_length: float = 60.0) -> np.ndarray:
    """Algorithm 1 for one trajectory, literally, one Python step at a time.

    The readable reference that :func:`trajectories_from_draws` must match;
    slow (used by the tests and the speed benchmark).
    """
    steps = draws.kick.shape[0] + 1
    step = max_length / (steps - 1)
    inertia = draws.inertia[index]
    p_gauss, p_s = draws.gaussian[index], draws.impulsiveness[index]
    v = complex(np.cos(draws.angle[index]), np.sin(draws.angle[index])) * step
    n = draws.shaking.shape[1]
    turn_index = np.cumsum(draws.shaking.ravel()) - 1  # where each shake's turn draw is
    x = [0j] * steps
    for t in range(steps - 1):
        if draws.shaking[t, index]:
            turn = draws.shake_turn[turn_index[t * n + index]]
            next_dir = 2 * v * np.exp(1j * (np.pi + (turn - 0.5)))
        else:
            next_dir = 0
        dv = next_dir + p_s * (p_gauss * draws.kick[t, index] - inertia * x[t]) * step
        v = v + dv
        v = (v / abs(v)) * step
        x[t + 1] = x[t] + v
    return np.asarray(x)


def sample_trajectories(
    n: int,
    rng: np.random.Generator,
    preset: str = DEFAULT_PRESET,
    steps: int = 2000,
    max_length: float = 60.0,
) -> tuple[np.ndarray, TrajectoryDraws]:
    """Sample ``n`` random camera-shake trajectories.

    Args:
        n: Number of trajectories.
        rng: Source of randomness; the same seed gives the same paths bit for bit.
        preset: ``"reference-code"`` (default) or ``"paper"``.
        steps: Points per path (``M``).
        max_length: Path length in pixels (``L_max``).

    Returns:
        Complex positions of shape (N, M) starting at 0, and the draws behind them.

    Examples:
        >>> paths, _ = sample_trajectories(3, np.random.default_rng(0))
        >>> paths.shape
        (3, 2000)
        >>> bool(np.allclose(np.abs(np.diff(paths)).sum(axis=1), 60.0))
        True
    """
    draws = draw_trajectory_randomness(n, rng, preset, steps)
    return trajectories_from_draws(draws, max_length), draws
