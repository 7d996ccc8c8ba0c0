"""How an image is padded to the sides a network accepts, without PyTorch.

The network pads tensors (:func:`deblurgan.nets.tensors.pad_to_multiple`) and the fast start
pads numpy arrays (:mod:`deblurgan.inference.cached_network`); both take the widths and the
mode from :func:`side_padding`, so they pad alike.
"""

from __future__ import annotations

from typing import Literal

PadMode = Literal["reflect", "edge"]


def side_padding(
    height: int, width: int, multiple: int, min_side: int
) -> tuple[tuple[int, int], tuple[int, int], PadMode]:
    """The padding that makes both sides multiples of ``multiple`` and at least ``min_side``.

    Padding is split between both sides of each axis and mirrors the image (``"reflect"``);
    where a side is too short to mirror that far, edge pixels are repeated (``"edge"``).

    Returns:
        ``(top, bottom)``, ``(left, right)`` and the mode.

    Examples:
        >>> side_padding(5, 7, 4, 8)
        ((1, 2), (0, 1), 'reflect')
        >>> side_padding(1, 1, 4, 8)
        ((3, 4), (3, 4), 'edge')
    """
    sides = []
    for size in (height, width):
        target = max(-(-size // multiple) * multiple, min_side)
        before = (target - size) // 2
        sides.append((before, target - size - before))
    mirror = max(sides[0]) < height and max(sides[1]) < width
    return sides[0], sides[1], "reflect" if mirror else "edge"
