"""How long the network will take on a photo, from its pixels and speeds measured here.

The network runs a photo one of two ways: whole (a converted model, fast) or, when a whole
pass would need more memory than allowed, in tiles in PyTorch (several times slower per
pixel). A speed learned on a small photo says nothing about a large one that goes the other
way, so speeds are kept per :data:`Route`. Each is ``seconds = overhead_s + pixels /
pixels_per_s``: measured on two check images the first time a route is needed, then
corrected by every photo that ran that way. Methods whose time does not follow the pixels
(blind deconvolution, the automatic method) report their own stages instead.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Iterator
from typing import Any, Literal

import numpy as np

Route = Literal["whole", "tiles"]
CHECK_SIDES = {"whole": (256, 512), "tiles": (256, 512)}  # two check images per route
ESTIMATED_METHODS = ("network",)
TILE = 256  # the tile side of the network's large photos (Deblurrer.plan's default)


@dataclasses.dataclass(frozen=True)
class Speed:
    """``seconds = overhead_s + pixels / pixels_per_s`` for one route of one model.

    Examples:
        >>> Speed(1.0, 1e6).seconds(3_000_000)
        4.0
        >>> Speed(1.0, 1e6).learned(3_000_000, 7.0).pixels_per_s
        500000.0
    """

    overhead_s: float
    pixels_per_s: float

    def seconds(self, pixels: int) -> float:
        """Expected seconds for a photo of ``pixels``."""
        return self.overhead_s + pixels / self.pixels_per_s

    def learned(self, pixels: int, seconds: float) -> Speed:
        """The speed after a photo of ``pixels`` took ``seconds`` (the overhead kept, the
        rate from this photo, which is larger than the check images)."""
        work = max(seconds - self.overhead_s, 0.5 * seconds, 1e-6)
        return Speed(self.overhead_s, pixels / work)


def photo_route(method: Any, height: int, width: int) -> Route:
    """Whether the network runs a ``height`` x ``width`` photo whole or in tiles.

    A :class:`~deblurgan.inference.Deblurrer` says so through ``plan``; the cached fast
    start (:class:`~deblurgan.inference.cached_network.CachedNetwork`) through ``_fits``;
    anything else is taken to run whole.
    """
    plan = getattr(method, "plan", None)
    if callable(plan):
        return "whole" if plan(height, width)[0] is None else "tiles"
    fits = getattr(method, "_fits", None)
    if callable(fits):
        return "whole" if fits(height, width) else "tiles"
    return "whole"


@contextlib.contextmanager
def forced_route(method: Any, route: Route, photo: tuple[int, int]) -> Iterator[Any]:
    """What runs a ``photo`` (height, width) by ``route``, made to run even the small check
    images that way.

    For tiles: the network that large photos go to (the cached fast start builds it on
    first need, with its usual memory limit), with ``tile`` set for the block, so the checks
    take the tiled path with the layer storage a large photo gets.
    """
    if route == "whole":
        yield method
        return
    usual = getattr(method, "_usual_path", None)
    inner = usual(*photo) if callable(usual) else method
    if not hasattr(inner, "tile"):
        yield inner
        return
    saved = inner.tile
    inner.tile = saved or TILE
    try:
        yield inner
    finally:
        inner.tile = saved


def measure_speed(method: Any, route: Route, photo: tuple[int, int]) -> Speed:
    """Time ``method`` on two grey check images (:data:`CHECK_SIDES`) by ``route`` (the way
    ``photo``, (height, width), will run) and fit :class:`Speed` to them: the per-call
    overhead and the rate per pixel."""
    times, counts = [], []
    with forced_route(method, route, photo) as run:
        for side in CHECK_SIDES[route]:
            check = np.full((side, side, 3), 0.5, np.float32)
            start = time.monotonic()
            run(check)
            times.append(max(time.monotonic() - start, 1e-6))
            counts.append(side * side)
    rate = counts[-1] / times[-1]  # overhead 0: the slowest rate the checks allow
    if times[1] > times[0]:
        rate = max(rate, (counts[1] - counts[0]) / (times[1] - times[0]))
        rate = min(rate, 4 * counts[-1] / times[-1])  # a noisy difference: at most 4x faster
    overhead = max(times[-1] - counts[-1] / rate, 0.0)
    return Speed(overhead, rate)
