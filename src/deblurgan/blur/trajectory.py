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
from concurrent.futures import ThreadPoolExecutor

import numba
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
        shake_test: Uniform draws; step t of path i shakes where
            ``shake_test < big_shake * impulsiveness``, float32 (N, M-1).
        shake_turn: Uniform draws for the big-shake turn ``pi + (u - 0.5)``, float32 (N, M-1).
        kick: Standard normal kicks, real and imaginary parts, float32 (N, M-1, 2).
    """

    inertia: np.ndarray
    big_shake: np.ndarray
    gaussian: np.ndarray
    impulsiveness: np.ndarray
    angle: np.ndarray
    shake_test: np.ndarray
    shake_turn: np.ndarray
    kick: np.ndarray


def draw_trajectory_randomness(
    n: int, rng: np.random.Generator, preset: str = DEFAULT_PRESET, steps: int = 2000
) -> TrajectoryDraws:
    """Draw all random numbers for ``n`` trajectories.

    The per-step arrays are filled by two threads from two child generators
    spawned from ``rng`` (numpy releases the GIL while filling), so the result
    depends only on ``rng``'s state, ``n`` and ``steps``.
    """
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
    shake_test = np.empty((n, steps - 1), np.float32)
    shake_turn = np.empty((n, steps - 1), np.float32)
    kick = np.empty((n, steps - 1, 2), np.float32)
    halves = [slice(0, n // 2), slice(n // 2, n)]

    def fill(child: np.random.Generator, part: slice) -> None:
        child.random(out=shake_test[part], dtype=np.float32)
        child.random(out=shake_turn[part], dtype=np.float32)
        child.standard_normal(out=kick[part], dtype=np.float32)

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(fill, rng.spawn(2), halves))
    return TrajectoryDraws(
        inertia, big_shake, gaussian, impulsiveness, angle, shake_test, shake_turn, kick
    )


def trajectories_from_draws(draws: TrajectoryDraws, max_length: float = 60.0) -> np.ndarray:
    """Run the trajectory recurrence for every path (compiled, parallel over paths).

    Returns:
        Complex positions, starting at 0, shape (N, M).
    """
    n, steps = draws.kick.shape[0], draws.kick.shape[1] + 1
    out = np.empty((n, steps), np.complex128)
    d = draws
    _recurrence(
        d.angle,
        d.inertia,
        d.big_shake,
        d.gaussian,
        d.impulsiveness,
        d.shake_test,
        d.shake_turn,
        d.kick,
        max_length / (steps - 1),
        out,
    )
    return out


@numba.njit(parallel=True, cache=True, fastmath=False)
def _recurrence(angle, inertia, big_shake, gaussian, expl, shake_test, shake_turn, kick, step, out):
    for i in numba.prange(out.shape[0]):
        vx, vy = np.cos(angle[i]) * step, np.sin(angle[i]) * step
        x = y = 0.0
        out[i, 0] = 0.0
        threshold = big_shake[i] * expl[i]
        push, pull = expl[i] * gaussian[i] * step, expl[i] * inertia[i] * step
        for t in range(out.shape[1] - 1):
            dx = push * kick[i, t, 0] - pull * x
            dy = push * kick[i, t, 1] - pull * y
            if shake_test[i, t] < threshold:  # big shake: 2 v e^{i (pi + u - 0.5)}
                a = np.pi + (shake_turn[i, t] - 0.5)
                c, s = np.cos(a), np.sin(a)
                dx += 2.0 * (vx * c - vy * s)
                dy += 2.0 * (vx * s + vy * c)
            vx += dx
            vy += dy
            norm = step / np.sqrt(vx * vx + vy * vy)
            vx *= norm
            vy *= norm
            x += vx
            y += vy
            out[i, t + 1] = complex(x, y)


def trajectory_loop(draws: TrajectoryDraws, index: int, max_length: float = 60.0) -> np.ndarray:
    """Algorithm 1 for one trajectory, literally, one Python step at a time.

    The readable reference that :func:`trajectories_from_draws` must match;
    slow (used by the tests and the speed benchmark).
    """
    steps = draws.kick.shape[1] + 1
    step = max_length / (steps - 1)
    inertia = draws.inertia[index]
    p_gauss, p_s = draws.gaussian[index], draws.impulsiveness[index]
    v = complex(np.cos(draws.angle[index]), np.sin(draws.angle[index])) * step
    x = [0j] * steps
    for t in range(steps - 1):
        if draws.shake_test[index, t] < draws.big_shake[index] * p_s:
            next_dir = 2 * v * np.exp(1j * (np.pi + (float(draws.shake_turn[index, t]) - 0.5)))
        else:
            next_dir = 0
        kick = complex(draws.kick[index, t, 0], draws.kick[index, t, 1])
        dv = next_dir + p_s * (p_gauss * kick - inertia * x[t]) * step
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
