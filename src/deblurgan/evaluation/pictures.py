"""Side-by-side comparison pictures with a zoomed crop of the same region in every panel."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw


def detail_region(image: np.ndarray, size: int) -> tuple[int, int, int]:
    """``(top, left, side)`` of the square with the most edge energy (where blur shows most).

    Shape:
        - image: :math:`(H, W, 3)` in [0, 1].
    """
    gray = image.mean(axis=2)
    side = int(min(size, *gray.shape))
    energy = np.abs(np.diff(gray, axis=0, append=gray[-1:])) + np.abs(
        np.diff(gray, axis=1, append=gray[:, -1:])
    )
    integral = np.pad(energy.cumsum(axis=0).cumsum(axis=1), ((1, 0), (1, 0)))
    window_sums = (  # energy of the side x side window at each top-left corner
        integral[side:, side:]
        - integral[:-side, side:]
        - integral[side:, :-side]
        + integral[:-side, :-side]
    )
    top, left = np.unravel_index(np.argmax(window_sums), window_sums.shape)
    return int(top), int(left), side


def side_by_side(
    panels: dict[str, np.ndarray],
    region: tuple[int, int, int] | None = None,
    zoom_height: int = 192,
    gap: int = 6,
) -> np.ndarray:
    """Labelled panels in a row and, below each, an enlarged crop of ``region``.

    Args:
        panels: Label -> RGB image in [0, 1]; all the same size.
        region: ``(top, left, side)`` to enlarge (default: :func:`detail_region` of the last panel).
        zoom_height: Height of the enlarged crops (nearest-neighbour, so pixels stay honest).
        gap: Pixels between panels.

    Returns:
        A uint8 RGB picture.
    """
    images = list(panels.values())
    height, width = images[0].shape[:2]
    if any(im.shape[:2] != (height, width) for im in images):
        sizes = ", ".join(f"{label} {im.shape[1]}x{im.shape[0]}" for label, im in panels.items())
        raise ValueError(f"all panels must have the same size; got {sizes} (width x height)")
    top, left, side = region or detail_region(images[-1], max(16, min(height, width) // 4))
    label_h = 18
    column = max(width, zoom_height)
    sheet = Image.new(
        "RGB", (len(images) * (column + gap) - gap, label_h + height + gap + zoom_height), "white"
    )
    draw = ImageDraw.Draw(sheet)
    for i, (label, image) in enumerate(panels.items()):
        x = i * (column + gap)
        pixels = Image.fromarray(np.rint(np.clip(image, 0, 1) * 255).astype(np.uint8))
        sheet.paste(pixels, (x, label_h))
        crop = pixels.crop((left, top, left + side, top + side)).resize(
            (zoom_height, zoom_height), Image.NEAREST
        )
        sheet.paste(crop, (x, label_h + height + gap))
        draw.rectangle(
            [x + left, label_h + top, x + left + side - 1, label_h + top + side - 1],
            outline=(255, 40, 40),
        )
        draw.text((x + 2, 3), label, fill=(0, 0, 0))
    return np.asarray(sheet)
