"""The README's figure of its first command: the bundled example before and after the
default method (``auto``), a zoomed inset of each, and the kernel it estimated.

    python scripts/example_figure.py docs/example_before_after.jpg

It runs the method of the package on the path, exactly as ``deblurgan deblur
examples/blurry_coffee.jpg -o out/`` does, and prints the decision it shows.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "blurry_coffee.jpg"
INSET = (210, 290, 120, 150)  # top, left, height, width of the zoomed part (the spoon)
ZOOM = 2
KERNEL_ZOOM = 4


def figure(rgb: np.ndarray, sharp: np.ndarray, kernel: np.ndarray | None) -> Image.Image:
    """Input and output side by side, each with its inset below, the kernel (peak white;
    for kernels that vary, their mosaic) in the output's top right corner.

    Shape:
        - Input: two :math:`(H, W, 3)` images in [0, 1]; a :math:`(k, k)` kernel or None.
    """
    top, left, height, width = INSET
    panels = []
    for image in (rgb, sharp):
        photo = Image.fromarray(np.round(np.clip(image, 0, 1) * 255).astype(np.uint8))
        inset = photo.crop((left, top, left + width, top + height))
        inset = inset.resize((width * ZOOM, height * ZOOM), Image.Resampling.NEAREST)
        panel = Image.new("RGB", (photo.width, photo.height + inset.height), "white")
        panel.paste(photo, (0, 0))
        panel.paste(inset, ((photo.width - inset.width) // 2, photo.height))
        ImageDraw.Draw(panel).rectangle(
            (left, top, left + width, top + height), outline=(255, 255, 0), width=2
        )
        panels.append(panel)
    if kernel is not None:
        peak = kernel / max(float(kernel.max()), 1e-12)
        small = Image.fromarray(np.round(peak * 255).astype(np.uint8)).convert("RGB")
        size = (kernel.shape[1] * KERNEL_ZOOM, kernel.shape[0] * KERNEL_ZOOM)  # a mosaic too
        small = small.resize(size, Image.Resampling.NEAREST)
        panels[1].paste(small, (panels[1].width - small.width - 4, 4))
    gap = 8
    out = Image.new("RGB", (2 * panels[0].width + gap, panels[0].height), "white")
    out.paste(panels[0], (0, 0))
    out.paste(panels[1], (panels[0].width + gap, 0))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("figure", type=Path)
    args = parser.parse_args()
    from deblurgan.io.images import read_image
    from deblurgan.methods import build_method

    rgb = read_image(EXAMPLE).rgb.astype(np.float32)
    restored = build_method("auto").restore(rgb)
    print(f"decided {EXAMPLE.name}: {restored.decision}")
    figure(rgb, restored.rgb, restored.kernel).save(args.figure, quality=90)


if __name__ == "__main__":
    main()
