"""Camera shake by rotation of a hand-held pinhole camera: blur that varies across the frame.

A hand-held camera mostly rotates while it shakes (Whyte et al. 2012): yaw and pitch move
every point by about the same amount (a uniform kernel), roll moves the corners along
circles about the centre, so the corners blur differently from the centre and one kernel
cannot describe the photo. A shake here is a path of ``(yaw, pitch, roll)`` angles over
the exposure; the blurred photo is the average, in linear light, of the sharp photo seen
through each pose (one homography :math:`K R K^{-1}` per pose), and the true local kernel
at any point is the path that point follows, splatted like
:func:`~deblurgan.blur.psf.render_psfs` and centred on its centre of mass.
"""

from __future__ import annotations

import dataclasses
import math

import cv2
import numpy as np

from deblurgan.blur.frames import DISPLAY_GAMMA
from deblurgan.blur.psf import render_psfs
from deblurgan.blur.trajectory import sample_trajectories


@dataclasses.dataclass(frozen=True)
class RotationShake:
    """One exposure's camera rotation.

    Attributes:
        yaw, pitch, roll: Angles in radians at each of T instants of the exposure
            (about the vertical axis, the horizontal axis and the optical axis).
        focal: Focal length in pixels of the image the shake is applied to.
    """

    yaw: np.ndarray
    pitch: np.ndarray
    roll: np.ndarray
    focal: float

    def scaled(self, factor: float) -> RotationShake:
        """The same shake for the image resized by ``factor`` (angles unchanged)."""
        return dataclasses.replace(self, focal=self.focal * factor)


def random_rotation_shake(
    rng: np.random.Generator,
    shape: tuple[int, int],
    extent: float = 15.0,
    roll_extent: float = 15.0,
    steps: int = 64,
    focal_factor: float = 1.0,
) -> RotationShake:
    """A random hand-held shake: yaw and pitch follow one camera-shake trajectory (the
    paper's random walk) spanning about ``extent`` pixels at the centre, roll follows the
    x part of another, scaled so the corners move about ``roll_extent`` pixels more than
    the centre.

    Args:
        rng: Source of randomness.
        shape: ``(H, W)`` of the image the shake is for.
        extent: Path length (pixels) of the yaw/pitch trajectory.
        roll_extent: Largest roll displacement at the image corners, in pixels.
        steps: Instants of the exposure.
        focal_factor: Focal length in units of the longer image side (1.0: about a 50 mm
            lens on a 36 mm frame, in the ballpark of a phone's main camera).

    Examples:
        >>> shake = random_rotation_shake(np.random.default_rng(0), (120, 160))
        >>> shake.yaw.shape, round(shake.focal)
        ((64,), 160)
    """
    focal = focal_factor * max(shape)
    paths, _ = sample_trajectories(2, rng, steps=steps, max_length=max(extent, 1e-3))
    centre_path = paths[0] - paths[0].mean()
    roll_path = paths[1].real - paths[1].real.mean()
    half_diagonal = 0.5 * math.hypot(*shape)
    reach = max(float(np.abs(roll_path).max()), 1e-9)
    roll = roll_path / reach * (roll_extent / half_diagonal) * 0.5  # +-half: spans roll_extent
    return RotationShake(
        yaw=np.arctan2(centre_path.real, focal),
        pitch=np.arctan2(centre_path.imag, focal),
        roll=roll.astype(np.float64),
        focal=float(focal),
    )


def rotation_homographies(shake: RotationShake, shape: tuple[int, int]) -> np.ndarray:
    """The homography of each pose, mapping sharp-image pixels to where they appear.

    Shape:
        - Output: :math:`(T, 3, 3)`.
    """
    height, width = shape
    k = np.array([[shake.focal, 0, (width - 1) / 2], [0, shake.focal, (height - 1) / 2], [0, 0, 1]])
    out = []
    for yaw, pitch, roll in zip(shake.yaw, shake.pitch, shake.roll):
        rotation = cv2.Rodrigues(np.array([-pitch, yaw, roll], np.float64))[0]
        out.append(k @ rotation @ np.linalg.inv(k))
    return np.stack(out)


def blur_by_rotation(
    image: np.ndarray, shake: RotationShake, gamma: float = DISPLAY_GAMMA
) -> np.ndarray:
    """The photo ``image`` taken during ``shake``: the average, in linear light, of the
    image warped by every pose's homography (reflected at the borders).

    Shape:
        - Input: :math:`(H, W, C)` or :math:`(H, W)` float in [0, 1]; output the same,
          float32.
    """
    height, width = image.shape[:2]
    linear = np.clip(image.astype(np.float32), 0.0, 1.0) ** np.float32(gamma)
    total = np.zeros_like(linear)
    for homography in rotation_homographies(shake, (height, width)):
        total += cv2.warpPerspective(
            linear,
            homography,
            (width, height),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REFLECT101,
        ).reshape(linear.shape)
    average = total / np.float32(len(shake.yaw))
    return (np.clip(average, 0.0, 1.0) ** np.float32(1.0 / gamma)).astype(np.float32)


def local_kernel(
    shake: RotationShake, shape: tuple[int, int], point: tuple[float, float], size: int
) -> np.ndarray:
    """The true blur kernel at ``point`` = (y, x): the path the point follows during the
    shake, splatted on a ``size x size`` canvas and centred on its centre of mass (so
    convolving with it does not move the point's neighbourhood on average).

    Examples:
        >>> still = RotationShake(np.zeros(4), np.zeros(4), np.zeros(4), 100.0)
        >>> k = local_kernel(still, (50, 50), (10.0, 20.0), 5)
        >>> float(k[2, 2]), float(k.sum())
        (1.0, 1.0)
    """
    y, x = point
    source = np.array([x, y, 1.0])
    moved = np.einsum("tij,j->ti", rotation_homographies(shake, shape), source)
    path = (moved[:, 0] / moved[:, 2]) + 1j * (moved[:, 1] / moved[:, 2])
    return render_psfs((path - path[0])[None], exposures=(1.0,), size=size)[0, 0]
