"""What a camera does to a blurred exposure: clipped highlights, noise, JPEG compression.

These act on linear-light pixels (noise, saturation) and on the encoded 8-bit
image (JPEG), so a synthetic blurred image carries the same defects as a real
photo; the sharp target stays clean.
"""

from __future__ import annotations

import dataclasses
import io

import numpy as np
from PIL import Image

from deblurgan.blur.apply import add_noise
from deblurgan.blur.frames import DISPLAY_GAMMA

HIGHLIGHT_THRESHOLD = 0.98  # encoded value above which a pixel counts as clipped


@dataclasses.dataclass(frozen=True)
class CameraEffects:
    """Random camera effects on the blurred image, each with its own probability.

    Attributes:
        highlight_probability: Chance that clipped highlights (encoded value >= 0.98)
            are brightened by a gain before averaging: in a real long exposure a
            light source smears into a bright streak, not a dim one.
        highlight_gain: Range of that gain (uniform).
        noise_probability: Chance of shot + read noise.
        photons: Range of the photon count at white (log-uniform; smaller is noisier).
        read_noise: Range of the Gaussian read-noise standard deviation, in [0, 1] units.
        jpeg_probability: Chance of a JPEG re-compression of the blurred image.
        jpeg_quality: Range of the JPEG quality (uniform integers).
    """

    highlight_probability: float = 0.0
    highlight_gain: tuple[float, float] = (1.5, 4.0)
    noise_probability: float = 0.0
    photons: tuple[float, float] = (300.0, 10000.0)
    read_noise: tuple[float, float] = (0.0, 0.01)
    jpeg_probability: float = 0.0
    jpeg_quality: tuple[int, int] = (60, 95)

    def __post_init__(self) -> None:
        for name in ("highlight_probability", "noise_probability", "jpeg_probability"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name}: must be in [0, 1], got {getattr(self, name)}")
        bounds = {
            "highlight_gain": (1.0, None),
            "photons": (1e-6, None),
            "read_noise": (0.0, 1.0),
            "jpeg_quality": (1, 100),
        }
        for name, (low, high) in bounds.items():
            value = getattr(self, name)
            if (
                len(value) != 2
                or not low <= value[0] <= value[1]
                or (high is not None and value[1] > high)
            ):
                raise ValueError(f"{name}: expected {low} <= LOW <= HIGH, got {value}")

    def draw_highlight_gain(self, rng: np.random.Generator) -> float:
        """1.0 (no change) or a gain drawn from ``highlight_gain``."""
        if self.highlight_probability and rng.random() < self.highlight_probability:
            return float(rng.uniform(*self.highlight_gain))
        return 1.0


def boost_highlights(linear: np.ndarray, gain: float, gamma: float = DISPLAY_GAMMA) -> np.ndarray:
    """Brighten clipped pixels (all channels at or above the threshold) to ``gain`` times white.

    Shape:
        - linear: :math:`(H, W)` or :math:`(H, W, C)`, linear light.
    """
    limit = np.float32(HIGHLIGHT_THRESHOLD**gamma)
    clipped = linear >= limit
    if linear.ndim == 3:
        clipped = np.repeat(clipped.all(axis=2, keepdims=True), linear.shape[2], axis=2)
    return np.where(clipped, np.maximum(linear, 1.0) * np.float32(gain), linear)


def develop(
    linear: np.ndarray,
    effects: CameraEffects,
    rng: np.random.Generator,
    gamma: float = DISPLAY_GAMMA,
) -> np.ndarray:
    """Noise in linear light, clipping, gamma encoding, then JPEG: the encoded image in [0, 1].

    Shape:
        - linear: :math:`(H, W)` or :math:`(H, W, C)`, float32, non-negative.
        - Output: the same shape, float32.
    """
    if effects.noise_probability and rng.random() < effects.noise_probability:
        low, high = np.log(effects.photons[0]), np.log(effects.photons[1])
        photons = float(np.exp(rng.uniform(low, high)))
        linear = add_noise(
            np.clip(linear, 0.0, None), float(rng.uniform(*effects.read_noise)), photons, rng
        )
    encoded = np.clip(linear, 0.0, 1.0) ** np.float32(1.0 / gamma)
    if effects.jpeg_probability and rng.random() < effects.jpeg_probability:
        quality = int(rng.integers(effects.jpeg_quality[0], effects.jpeg_quality[1] + 1))
        encoded = jpeg_roundtrip(encoded, quality)
    return encoded.astype(np.float32, copy=False)


def jpeg_roundtrip(encoded: np.ndarray, quality: int) -> np.ndarray:
    """Compress to 8-bit JPEG at ``quality`` and decode: float [0, 1] in, float [0, 1] out.

    Shape:
        - encoded: :math:`(H, W)`, :math:`(H, W, 1)` or :math:`(H, W, 3)`.
    """
    pixels = np.rint(np.clip(encoded, 0.0, 1.0) * 255).astype(np.uint8)
    squeeze = pixels.ndim == 3 and pixels.shape[2] == 1
    buffer = io.BytesIO()
    Image.fromarray(pixels[..., 0] if squeeze else pixels).save(buffer, "JPEG", quality=quality)
    decoded = np.asarray(Image.open(buffer)).astype(np.float32) / np.float32(255)
    return decoded[..., None] if squeeze else decoded
