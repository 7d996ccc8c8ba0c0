"""Dynamic-scene motion blur from one sharp image: the GoPro recipe with random motion.

A GoPro pair is the average of N consecutive 240 fps frames in linear light and
the middle frame. Here the N sub-frames are made from one sharp image: the
camera follows a smooth random path (translation, rotation, zoom and a little
perspective: one homography per sub-frame), and 0-2 foreground layers (regions
of other sharp images under soft masks) move on paths of their own, occluding
the background. So the blur varies across the image and breaks at object
edges, unlike one uniform kernel per image.

Sub-frame ``k`` of ``N`` happens at time ``t = k - N // 2`` (in sub-frames):
the middle sub-frame ``N // 2`` is ``t = 0``, where every homography is the
identity, so the sharp target is the input image (plus any layers at their
``t = 0`` places) with no resampling, aligned with the blurred image exactly
as in a GoPro pair.
"""

from __future__ import annotations

import dataclasses
import math

import cv2
import numpy as np

from deblurgan.blur.apply import integer_scale
from deblurgan.blur.camera import CameraEffects, boost_highlights, develop
from deblurgan.blur.frames import DISPLAY_GAMMA, GOPRO_FRAMES


def _check_range(
    name: str, value: tuple, low: float, high: float | None = None, integer: bool = False
) -> None:
    if (
        len(value) != 2
        or value[0] > value[1]
        or value[0] < low
        or (high is not None and value[1] > high)
    ):
        bound = f"[{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"{name}: expected LOW <= HIGH within {bound}, got {value}")
    if integer and not all(float(v).is_integer() for v in value):
        raise ValueError(f"{name}: expected whole numbers, got {value}")


@dataclasses.dataclass(frozen=True)
class SceneMotion:
    """The random motion of a dynamic-scene sample.

    Speeds are in pixels per sub-frame (one 240 fps frame of a GoPro recording),
    so the blur extent is about ``speed x (frames - 1)``; the defaults match the
    extents measured on the shared GoPro frames (``benchmarks/blur_calibration.py``).

    Attributes:
        frames: Inclusive range of sub-frames averaged, one count drawn per sample.
        speed: Camera translation speed, log-uniform in this range.
        acceleration: Largest change of the camera's velocity per sub-frame, as a
            fraction of its speed (curved, accelerating paths).
        rotation: Largest in-plane rotation speed, degrees per sub-frame.
        zoom: Largest relative scale change per sub-frame.
        perspective: Largest perspective change per sub-frame (projective terms
            times the image side).
        objects: Inclusive range of moving foreground layers.
        object_size: Range of a layer's size as a fraction of the image's shorter side.
        object_speed: A layer's own speed range (log-uniform), on top of the camera's.
        still_fraction: Share of samples with no motion at all (input == target).
        gamma: Display gamma: frames are averaged in linear light.
    """

    frames: tuple[int, int] = GOPRO_FRAMES
    speed: tuple[float, float] = (0.05, 3.0)
    acceleration: float = 0.3
    rotation: float = 0.05
    zoom: float = 0.002
    perspective: float = 0.002
    objects: tuple[int, int] = (0, 2)
    object_size: tuple[float, float] = (0.2, 0.5)
    object_speed: tuple[float, float] = (0.5, 5.0)
    still_fraction: float = 0.1
    gamma: float = DISPLAY_GAMMA

    def __post_init__(self) -> None:
        _check_range("frames", self.frames, 1, integer=True)
        _check_range("speed", self.speed, 0.0)
        _check_range("objects", self.objects, 0, integer=True)
        _check_range("object_size", self.object_size, 0.0, 1.0)
        _check_range("object_speed", self.object_speed, 0.0)
        for name in ("acceleration", "rotation", "zoom", "perspective"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}: must be >= 0, got {getattr(self, name)}")
        if not 0 <= self.still_fraction <= 1:
            raise ValueError(f"still_fraction: must be in [0, 1], got {self.still_fraction}")
        if self.gamma <= 0:
            raise ValueError(f"gamma: must be positive, got {self.gamma}")


@dataclasses.dataclass(frozen=True)
class ScenePair:
    """A synthetic pair and the motion that made it.

    Attributes:
        blurred: The average of the sub-frames (after camera effects), the input's dtype.
        sharp: The middle sub-frame, the input's dtype.
        camera: Camera homographies, one per sub-frame, shape (N, 3, 3); they map
            middle-frame pixel coordinates ``(x, y, 1)`` to the sub-frame's.
        layers: Per moving layer, its soft mask in the middle sub-frame, shape (H, W),
            and its own homographies (N, 3, 3), applied before the camera's.
        record: The drawn parameters as plain numbers (for a manifest).
    """

    blurred: np.ndarray
    sharp: np.ndarray
    camera: np.ndarray
    layers: tuple[tuple[np.ndarray, np.ndarray], ...]
    record: dict


def synthesize_scene_pair(
    image: np.ndarray,
    rng: np.random.Generator,
    motion: SceneMotion | None = None,
    effects: CameraEffects | None = None,
    layer_sources: tuple[np.ndarray, ...] = (),
) -> ScenePair:
    """Blur ``image`` by random camera and object motion, as a GoPro pair is made.

    Args:
        image: Sharp uint8, uint16 or float (in [0, 1]) pixels, gray or colour.
        rng: Source of all randomness; the same seed gives the same pair.
        motion: The distributions of the motion (default: ``SceneMotion()``).
        effects: Highlight saturation, noise and JPEG applied to the blurred image
            (default: none).
        layer_sources: Images to cut moving foreground layers from (same number of
            channels as ``image``, any size and dtype); ``image`` itself if empty.

    Returns:
        The pair; ``blurred`` and ``sharp`` have the input's shape and dtype.

    Shape:
        - image: :math:`(H, W)` or :math:`(H, W, C)`.

    Examples:
        >>> sharp = np.random.default_rng(0).random((32, 48, 3), dtype=np.float32)
        >>> pair = synthesize_scene_pair(sharp, np.random.default_rng(1))
        >>> pair.blurred.shape, pair.record["objects"]  # one layer moved: the target moved too
        ((32, 48, 3), 1)
        >>> still = SceneMotion(objects=(0, 0))  # camera motion only
        >>> pair = synthesize_scene_pair(sharp, np.random.default_rng(1), still)
        >>> bool(np.array_equal(pair.sharp, sharp))  # the target is the middle frame: the input
        True
    """
    if image.ndim not in (2, 3) or min(image.shape[:2]) < 2:
        raise ValueError(f"image must be (H, W) or (H, W, C) of at least 2x2, got {image.shape}")
    motion, effects = motion or SceneMotion(), effects or CameraEffects()
    scale = integer_scale(image.dtype)
    height, width = image.shape[:2]
    linear = (image.astype(np.float32) / np.float32(scale)) ** motion.gamma
    n = int(rng.integers(motion.frames[0], motion.frames[1] + 1))
    times = np.arange(n) - n // 2
    still = bool(rng.random() < motion.still_fraction)
    camera, record = random_camera_path(times, (height, width), motion, rng, still)
    n_layers = 0 if still else int(rng.integers(motion.objects[0], motion.objects[1] + 1))
    layers = [_random_layer(layer_sources, linear, motion, times, rng) for _ in range(n_layers)]
    if layers:  # the target, before highlights are boosted
        middle = _compose(linear, layers, camera[n // 2], n // 2)
        sharp = _encode(middle ** np.float32(1.0 / motion.gamma), image, scale)
    else:  # the middle sub-frame is the input itself
        sharp = image.copy()
    gain = effects.draw_highlight_gain(rng)
    if gain > 1:  # only the blurred image: the sharp target keeps the recorded values
        linear = boost_highlights(linear, gain, motion.gamma)
        layers = [(boost_highlights(p, gain, motion.gamma), m, t) for p, m, t in layers]
    if still:
        average = linear
    else:
        average = sum(_compose(linear, layers, camera[k], k) for k in range(n)) / np.float32(n)
    blurred = develop(average, effects, rng, motion.gamma)
    record.update(frames=n, objects=n_layers, highlight_gain=gain)
    moving = tuple((mask, path) for _, mask, path in layers)
    return ScenePair(_encode(blurred, image, scale), sharp, camera, moving, record)


def random_camera_path(
    times: np.ndarray,
    shape: tuple[int, int],
    motion: SceneMotion,
    rng: np.random.Generator,
    still: bool = False,
) -> tuple[np.ndarray, dict]:
    """Homographies of a smooth random camera path about the image centre.

    Every parameter ``p`` (translation x and y, rotation, log-zoom, two perspective
    terms) moves as ``p(t) = v t + a t^2 / 2``; at ``t = 0`` the homography is the identity.

    Returns:
        Homographies of shape ``(len(times), 3, 3)`` and the drawn speeds.
    """
    speed = 0.0 if still else _log_uniform(rng, motion.speed)
    angle = rng.uniform(0, 2 * math.pi)
    velocity = speed * np.array([math.cos(angle), math.sin(angle)])
    accel = speed * motion.acceleration * rng.uniform(-1, 1, 2)
    on = 0.0 if still else 1.0
    rotation = on * math.radians(motion.rotation) * rng.uniform(-1, 1, 2)  # speed, acceleration
    zoom = on * motion.zoom * rng.uniform(-1, 1, 2)
    side = max(shape)
    tilt = on * motion.perspective / side * rng.uniform(-1, 1, (2, 2))  # [x, y] x [v, a]
    t = times.astype(np.float64)
    homographies = np.stack(
        [
            _homography(
                shape,
                shift=velocity * ti + accel * ti**2 / 2,
                angle=rotation[0] * ti + rotation[1] * ti**2 / 2,
                log_zoom=zoom[0] * ti + zoom[1] * ti**2 / 2,
                tilt=tilt[:, 0] * ti + tilt[:, 1] * ti**2 / 2,
            )
            for ti in t
        ]
    )
    record = {
        "speed": speed,
        "direction": angle,
        "rotation": float(rotation[0]),
        "zoom": float(zoom[0]),
    }
    return homographies, record


def blur_extent(pair: ScenePair, step: int = 8) -> np.ndarray:
    """Per-pixel blur extent: how far each point moves from the first sub-frame to the last.

    Background points move with the camera; points a layer covers in the middle
    sub-frame (mask > 0.5) move with the layer and the camera.

    Args:
        pair: A synthesized pair.
        step: Evaluate on a grid of this spacing.

    Returns:
        Extents in pixels on the grid, shape ``(ceil(H / step), ceil(W / step))``.
    """
    shape = pair.sharp.shape[:2]
    ys, xs = np.mgrid[0 : shape[0] : step, 0 : shape[1] : step]
    points = np.stack([xs, ys, np.ones_like(xs)], axis=-1).astype(np.float64)

    def extent(first: np.ndarray, last: np.ndarray) -> np.ndarray:
        a, b = points @ first.T, points @ last.T
        return np.linalg.norm(b[..., :2] / b[..., 2:] - a[..., :2] / a[..., 2:], axis=-1)

    extents = extent(pair.camera[0], pair.camera[-1])
    for mask, path in pair.layers:
        inside = mask[ys, xs] > 0.5
        moved = extent(pair.camera[0] @ path[0], pair.camera[-1] @ path[-1])
        extents = np.where(inside, moved, extents)
    return extents


def _homography(
    shape: tuple[int, int], shift: np.ndarray, angle: float, log_zoom: float, tilt: np.ndarray
) -> np.ndarray:
    cy, cx = (shape[0] - 1) / 2, (shape[1] - 1) / 2
    s = math.exp(log_zoom)
    c, n = s * math.cos(angle), s * math.sin(angle)
    about_centre = np.array([[c, -n, 0.0], [n, c, 0.0], [tilt[0], tilt[1], 1.0]])
    to_centre = np.array([[1.0, 0, -cx], [0, 1, -cy], [0, 0, 1]])
    back = np.array([[1.0, 0, cx + shift[0]], [0, 1, cy + shift[1]], [0, 0, 1]])
    return back @ about_centre @ to_centre


def _random_layer(
    sources: tuple[np.ndarray, ...],
    linear: np.ndarray,
    motion: SceneMotion,
    times: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A foreground region on a canvas of the image's size, its soft mask and its own path."""
    height, width = linear.shape[:2]
    if sources:
        source = sources[int(rng.integers(len(sources)))]
        pixels = (source.astype(np.float32) / np.float32(integer_scale(source.dtype))) ** (
            motion.gamma
        )
        if pixels.ndim != linear.ndim or pixels.shape[2:] != linear.shape[2:]:
            raise ValueError(
                f"layer source of shape {source.shape} does not match the image's channels"
            )
    else:
        pixels = linear
    side = min(height, width) * rng.uniform(*motion.object_size)
    lh = max(2, min(int(side * rng.uniform(0.7, 1.3)), height, pixels.shape[0]))
    lw = max(2, min(int(side * rng.uniform(0.7, 1.3)), width, pixels.shape[1]))
    sy, sx = rng.integers(0, pixels.shape[0] - lh + 1), rng.integers(0, pixels.shape[1] - lw + 1)
    y, x = rng.integers(0, height - lh + 1), rng.integers(0, width - lw + 1)
    canvas = np.zeros_like(linear)
    canvas[y : y + lh, x : x + lw] = pixels[sy : sy + lh, sx : sx + lw]
    mask = np.zeros((height, width), np.float32)
    mask[y : y + lh, x : x + lw] = _soft_ellipse(lh, lw)
    speed = _log_uniform(rng, motion.object_speed)
    angle = rng.uniform(0, 2 * math.pi)
    velocity = speed * np.array([math.cos(angle), math.sin(angle)])
    spin = math.radians(4 * motion.rotation) * rng.uniform(-1, 1)
    centre = ((y + (lh - 1) / 2), (x + (lw - 1) / 2))
    path = np.stack([_about(centre, velocity * t, spin * t) for t in times.astype(np.float64)])
    return canvas, mask, path


def _log_uniform(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    """A draw spread evenly in log scale between the bounds (0 when the upper bound is 0)."""
    low, high = bounds
    if high <= 0:
        return 0.0
    return float(np.exp(rng.uniform(np.log(max(low, 1e-3 * high)), np.log(high))))


def _about(centre: tuple[float, float], shift: np.ndarray, angle: float) -> np.ndarray:
    cy, cx = centre
    c, s = math.cos(angle), math.sin(angle)
    rotate = np.array([[c, -s, cx - c * cx + s * cy], [s, c, cy - s * cx - c * cy], [0, 0, 1]])
    return np.array([[1.0, 0, shift[0]], [0, 1, shift[1]], [0, 0, 1]]) @ rotate


def _soft_ellipse(height: int, width: int) -> np.ndarray:
    """An ellipse filling the box, 1 inside, falling smoothly to 0 over its outer fifth."""
    y = (np.arange(height) - (height - 1) / 2) / (height / 2)
    x = (np.arange(width) - (width - 1) / 2) / (width / 2)
    radius = np.sqrt(y[:, None] ** 2 + x[None, :] ** 2)
    ramp = np.clip((1.0 - radius) / 0.2, 0.0, 1.0)
    return (ramp * ramp * (3 - 2 * ramp)).astype(np.float32)  # smoothstep


def _compose(
    linear: np.ndarray,
    layers: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    camera: np.ndarray,
    k: int,
) -> np.ndarray:
    """Sub-frame ``k``: the background seen through ``camera``, layers over it in order."""
    frame = _warp(linear, camera, cv2.BORDER_REFLECT_101)
    for pixels, mask, path in layers:
        h = camera @ path[k]
        alpha = _warp(mask, h, cv2.BORDER_CONSTANT)
        if frame.ndim == 3:
            alpha = alpha[..., None]
        frame = frame * (1 - alpha) + _warp(pixels, h, cv2.BORDER_CONSTANT) * alpha
    return frame


def _warp(pixels: np.ndarray, homography: np.ndarray, border: int) -> np.ndarray:
    """``out(H p) = pixels(p)``, bilinear; the identity returns a copy, bit for bit."""
    if np.array_equal(homography, np.eye(3)):
        return pixels.copy()
    size = (pixels.shape[1], pixels.shape[0])
    channels = pixels.shape[2] if pixels.ndim == 3 else 0
    if channels > 4:  # OpenCV warps at most 4 channels at once
        return np.stack([_warp(pixels[..., c], homography, border) for c in range(channels)], -1)
    out = cv2.warpPerspective(pixels, homography, size, flags=cv2.INTER_LINEAR, borderMode=border)
    return out.reshape(pixels.shape)


def _encode(linear: np.ndarray, like: np.ndarray, scale: float) -> np.ndarray:
    out = np.clip(linear, 0.0, 1.0)
    if scale == 1:
        return out.astype(like.dtype, copy=False)
    return np.rint(out * scale).astype(like.dtype)
