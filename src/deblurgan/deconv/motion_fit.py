"""A camera motion that explains kernels measured at several places of one photo.

Hand-held shake is mostly rotation (Whyte et al. 2012). Over a photo of ordinary focal
length, yaw and pitch move every point by about the same amount and roll moves each point
along a circle about the centre, so the displacement of the point :math:`p` (relative to
the image centre) at an instant of the exposure is :math:`t + \\theta\\, p^\\perp` with
:math:`p^\\perp = (-p_y, p_x)`. The exposure is a weighted set of such in-plane poses
:math:`(t_x, t_y, \\theta)`, and the kernel at :math:`p` is the poses' displacements there,
weighted (Hu and Yang 2012 fit such pose weights, with the full projective model, to local
kernels). :func:`fit_inplane_motion` finds non-negative weights over a grid of poses by
least squares against local kernel estimates; :func:`motion_kernel` renders the kernel
anywhere. Kernels are compared centred (a blind estimate has no origin), so the fit fixes
the gauge: the weighted mean translation and roll are zero.
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import scipy.sparse

ITERATIONS = 1000  # projected-gradient steps of the fit
GAUGE_WEIGHT = 1.0  # weight of the zero-mean rows (centred kernels have no origin)


@dataclasses.dataclass(frozen=True)
class InplaneMotion:
    """Weighted in-plane poses of one exposure and how well they fit.

    Attributes:
        poses: ``(M, 3)``: translation x, translation y (pixels) and roll (radians).
        weights: ``(M,)``, non-negative, summing to 1.
        residual: Relative squared error of the fit, ``|A w - b|^2 / |b|^2``.
        uniform_residual: The same for the best fit without roll (one kernel everywhere).
    """

    poses: np.ndarray
    weights: np.ndarray
    residual: float
    uniform_residual: float

    @property
    def roll_spread(self) -> float:
        """Standard deviation of the roll over the exposure, radians."""
        return float(np.sqrt(np.sum(self.weights * self.poses[:, 2] ** 2)))


def _splat_rows(
    displacements: np.ndarray, size: int, offset: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bilinear splats of ``displacements`` (M, 2: x, y) on a ``size x size`` canvas
    centred at ``size // 2``: (row indices into the canvas + ``offset``, column = pose
    index, values); points off the canvas are dropped."""
    centre = size // 2
    x, y = displacements[:, 0] + centre, displacements[:, 1] + centre
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    fx, fy = x - x0, y - y0
    rows, cols, values = [], [], []
    index = np.arange(len(displacements))
    for dy, dx, w in (
        (0, 0, (1 - fx) * (1 - fy)),
        (0, 1, fx * (1 - fy)),
        (1, 0, (1 - fx) * fy),
        (1, 1, fx * fy),
    ):
        yy, xx = y0 + dy, x0 + dx
        inside = (yy >= 0) & (yy < size) & (xx >= 0) & (xx < size) & (w > 0)
        rows.append(offset + yy[inside] * size + xx[inside])
        cols.append(index[inside])
        values.append(w[inside])
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(values)


def pose_grid(
    size: int, reach: float, roll: bool = True, support: np.ndarray | None = None
) -> np.ndarray:
    """Every whole-pixel translation within the kernel's radius (where ``support``, a
    ``size x size`` boolean map, is true), times the roll angles that move a point
    ``reach`` pixels from the centre by up to the radius, one pixel apart there (only roll
    0 without ``roll``).

    Shape:
        - Output: :math:`(M, 3)`.
    """
    radius = size // 2
    ty, tx = np.mgrid[-radius : radius + 1, -radius : radius + 1].astype(np.float64)
    if support is not None:
        ty, tx = ty[support], tx[support]
    max_roll = radius / max(reach, 1.0)
    rolls = np.linspace(-max_roll, max_roll, 2 * radius + 1) if roll else np.zeros(1)
    grid_t, grid_roll = np.meshgrid(np.arange(tx.size), rolls, indexing="ij")
    return np.stack([tx.ravel()[grid_t.ravel()], ty.ravel()[grid_t.ravel()], grid_roll.ravel()], 1)


def kernels_support(kernels: list[np.ndarray], floor: float = 0.02, grow: int = 3) -> np.ndarray:
    """Where any of ``kernels`` has mass (above ``floor`` of its peak), grown by ``grow``
    pixels: the translations a pose can have.

    Shape:
        - Output: :math:`(k, k)` boolean.
    """
    union = np.zeros(kernels[0].shape, bool)
    for k in kernels:
        union |= k > floor * float(k.max())
    side = 2 * grow + 1
    return cv2.dilate(union.astype(np.uint8), np.ones((side, side), np.uint8)) > 0


def _system(
    kernels: list[np.ndarray], points: np.ndarray, poses: np.ndarray
) -> tuple[scipy.sparse.csr_matrix, np.ndarray]:
    """The least-squares system: each kernel's pixels, then the gauge and mass rows."""
    size = kernels[0].shape[0]
    rows, cols, values = [], [], []
    for j, (py, px) in enumerate(points):
        moved = poses[:, :2] + poses[:, 2:3] * np.array([[-py, px]])
        r, c, v = _splat_rows(moved, size, j * size * size)
        rows.append(r)
        cols.append(c)
        values.append(v)
    base = len(kernels) * size * size
    m = len(poses)
    scale = GAUGE_WEIGHT / max(size / 2, 1.0)
    extra = [poses[:, 0] * scale, poses[:, 1] * scale, poses[:, 2] * GAUGE_WEIGHT * size]
    extra.append(np.full(m, GAUGE_WEIGHT))  # the mass: weights sum to 1
    for i, row in enumerate(extra):
        rows.append(np.full(m, base + i))
        cols.append(np.arange(m))
        values.append(row)
    matrix = scipy.sparse.csr_matrix(
        (np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))),
        shape=(base + len(extra), m),
    )
    target = np.concatenate([k.ravel() for k in kernels] + [np.zeros(3), [GAUGE_WEIGHT]])
    return matrix, target


def _solve(
    matrix: scipy.sparse.csr_matrix, target: np.ndarray, iterations: int = ITERATIONS
) -> tuple[np.ndarray, float]:
    """Non-negative least squares by accelerated projected gradient (FISTA): each step is
    two sparse products, so thousands of poses cost milliseconds a step."""
    transpose = matrix.T.tocsr()
    probe = np.random.default_rng(0).random(matrix.shape[1])  # fixed: deterministic
    for _ in range(20):  # power iteration for the Lipschitz constant |A|^2
        probe = transpose @ (matrix @ probe)
        probe /= max(float(np.linalg.norm(probe)), 1e-30)
    lipschitz = float(np.linalg.norm(transpose @ (matrix @ probe))) * 1.01 + 1e-12
    weights = np.full(matrix.shape[1], 1.0 / matrix.shape[1])
    momentum, previous = weights.copy(), weights.copy()
    t = 1.0
    for _ in range(iterations):
        gradient = transpose @ (matrix @ momentum - target)
        weights = np.maximum(momentum - gradient / lipschitz, 0.0)
        t_next = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        momentum = weights + ((t - 1.0) / t_next) * (weights - previous)
        previous, t = weights, t_next
    pixels = target.size - 4  # the residual of the kernels' pixels only
    error = matrix @ weights - target
    residual = float(np.sum(error[:pixels] ** 2) / max(np.sum(target[:pixels] ** 2), 1e-12))
    return weights, residual


def fit_inplane_motion(kernels: list[np.ndarray], points: np.ndarray) -> InplaneMotion:
    """Non-negative pose weights whose kernels best match ``kernels`` at ``points``.

    Args:
        kernels: Centred kernels of one odd side, each summing to 1.
        points: ``(N, 2)`` places ``(y, x)`` of the kernels relative to the image centre,
            pixels, at the kernels' scale.

    Shape:
        - Input: N kernels :math:`(k, k)`, points :math:`(N, 2)`.
    """
    points = np.asarray(points, np.float64)
    size = kernels[0].shape[0]
    reach = float(np.max(np.hypot(points[:, 0], points[:, 1]))) if len(points) else 1.0
    support = kernels_support(kernels)
    poses = pose_grid(size, reach, support=support)
    weights, residual = _solve(*_system(kernels, points, poses))
    flat = pose_grid(size, reach, roll=False, support=support)
    _, uniform = _solve(*_system(kernels, points, flat))
    total = max(float(weights.sum()), 1e-12)
    return InplaneMotion(poses, weights / total, residual, uniform)


def motion_kernel(motion: InplaneMotion, point: tuple[float, float], size: int) -> np.ndarray:
    """The kernel ``motion`` makes at ``point`` = (y, x) relative to the image centre:
    its poses' displacements there, splatted, on a ``size x size`` canvas, normalised.

    Examples:
        >>> poses = np.array([[-2.0, 0.0, 0.0], [2.0, 0.0, 0.0]])
        >>> still = InplaneMotion(poses, np.array([0.5, 0.5]), 0.0, 0.0)
        >>> k = motion_kernel(still, (40.0, 0.0), 7)
        >>> float(k[3, 1]), float(k[3, 5])
        (0.5, 0.5)
    """
    py, px = point
    keep = motion.weights > 0
    poses, weights = motion.poses[keep], motion.weights[keep]
    moved = poses[:, :2] + poses[:, 2:3] * np.array([[-py, px]])
    rows, cols, values = _splat_rows(moved, size, 0)
    kernel = np.bincount(rows, weights=values * weights[cols], minlength=size * size)
    kernel = kernel.reshape(size, size)
    return (kernel / max(float(kernel.sum()), 1e-12)).astype(np.float32)
