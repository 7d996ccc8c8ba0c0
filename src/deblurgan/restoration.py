"""What a deblurring method returns, and the interface every method offers
(:mod:`deblurgan.methods` builds them by name)."""

from __future__ import annotations

import dataclasses
from typing import Any, Protocol

import numpy as np


@dataclasses.dataclass(frozen=True)
class Restoration:
    """What a method made of one image.

    Attributes:
        rgb: The deblurred image, float32 in [0, 1], the input's shape.
        kernel: The blur kernel the method estimated (non-negative, sums to 1), if it
            estimates one.
        note: Something the user should know about this image (e.g. no blur was found
            and the image is returned unchanged), or None.
        decision: What an automatic method chose for this image and its evidence, in plain
            words (e.g. "uniform shake, kernel 21 px"), or None for a fixed method.
    """

    rgb: np.ndarray
    kernel: np.ndarray | None = None
    note: str | None = None
    decision: str | None = None


class DeblurMethod(Protocol):
    """The interface every deblurring method offers."""

    name: str

    def restore(self, rgb: np.ndarray) -> Restoration:
        """Deblur one ``(H, W, 3)`` float image in [0, 1]."""
        ...

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """Deblur an ``(H, W, 3)`` image or an ``(N, H, W, 3)`` stack; the input's shape."""
        ...

    def settings(self) -> dict[str, Any]:
        """What a report records about how this method ran."""
        ...
