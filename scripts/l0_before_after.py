"""Before/after figures of ``--method l0`` on real photos, one column per version of the code.

Two steps, so that two versions of the package can be compared (run the first step once
with each version on ``PYTHONPATH``, e.g. a ``git worktree`` of an older commit's ``src``):

    python scripts/l0_before_after.py run OUT_DIR [--shared ../shared]
    PYTHONPATH=/tmp/round2/src python scripts/l0_before_after.py run OLD_DIR
    python scripts/l0_before_after.py compose docs/figure.png OLD_DIR:"round 2" OUT_DIR:"round 3"

``run`` deblurs the crops listed in :data:`CROPS` (from ``SHARED/data/blurry_real``; or
those given by ``--photo``, as for the README's figure of ``selfdeblur_real_fishes.jpg``:
``--photo selfdeblur_real_fishes.jpg:100,219,300,420`` to both steps) and saves
each output and kernel as PNG; ``compose`` lays them out, the input first, with the kernel
(enlarged, peak white) in each output's corner.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

SHARED = Path(__file__).resolve().parents[2] / "shared"
CROPS = {  # file: (top, left, height, width)
    "licenseplate_motion.jpg": (0, 0, 482, 600),  # the whole photos
    "skimage_clock_motion.png": (0, 0, 300, 400),
}


def parse_crops(specs: list[str] | None) -> dict[str, tuple[int, int, int, int]]:
    """``FILE:TOP,LEFT,HEIGHT,WIDTH`` specifications as a crop table (None: :data:`CROPS`).

    Examples:
        >>> parse_crops(["fishes.jpg:130,219,300,420"])
        {'fishes.jpg': (130, 219, 300, 420)}
    """
    if not specs:
        return CROPS
    crops = {}
    for spec in specs:
        name, _, box = spec.rpartition(":")
        top, left, height, width = (int(v) for v in box.split(","))
        crops[name] = (top, left, height, width)
    return crops


def run(out: Path, shared: Path, crops: dict[str, tuple[int, int, int, int]] = CROPS) -> None:
    """Deblur every crop with the ``l0`` of the package on the path and save the results."""
    from deblurgan.deconv.blind import BlindDeconvolution
    from deblurgan.io.images import read_image

    out.mkdir(parents=True, exist_ok=True)
    method = BlindDeconvolution()
    for name, (top, left, height, width) in crops.items():
        rgb = read_image(shared / "data" / "blurry_real" / name).rgb
        if rgb.ndim == 2:
            rgb = np.repeat(rgb[..., None], 3, axis=2)
        crop = np.ascontiguousarray(rgb[top : top + height, left : left + width, :3])
        restored = method.restore(crop)
        stem = Path(name).stem
        _save(out / f"{stem}_in.png", crop)
        _save(out / f"{stem}_out.png", restored.rgb)
        if restored.kernel is not None:
            kernel = restored.kernel / max(float(restored.kernel.max()), 1e-12)
            _save(out / f"{stem}_kernel.png", np.repeat(kernel[..., None], 3, axis=2))
        print(f"{name}: {restored.note or 'deblurred'}, kernel {restored.kernel.shape}")


def _save(path: Path, rgb: np.ndarray) -> None:
    Image.fromarray(np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8)).save(path)


def compose(
    figure: Path, columns: list[str], crops: dict[str, tuple[int, int, int, int]] = CROPS
) -> None:
    """One row per photo: the input, then each labelled folder's output with its kernel."""
    folders = [(Path(c.split(":", 1)[0]), c.split(":", 1)[1] if ":" in c else c) for c in columns]
    rows = []
    for name in crops:
        stem = Path(name).stem
        tiles = [(Image.open(folders[0][0] / f"{stem}_in.png").convert("RGB"), "input")]
        for folder, label in folders:
            out = Image.open(folder / f"{stem}_out.png").convert("RGB")
            kernel_path = folder / f"{stem}_kernel.png"
            if kernel_path.exists():
                kernel = Image.open(kernel_path).convert("RGB")
                side = min(90, 3 * kernel.width)
                out.paste(kernel.resize((side, side), Image.NEAREST), (out.width - side, 0))
            tiles.append((out, label))
        gap = 6
        width = sum(t.width for t, _ in tiles) + gap * (len(tiles) - 1)
        row = Image.new("RGB", (width, tiles[0][0].height + 22), "white")
        x = 0
        draw = ImageDraw.Draw(row)
        for tile, label in tiles:
            row.paste(tile, (x, 22))
            draw.text((x + 4, 4), label, fill="black")
            x += tile.width + gap
        rows.append(row)
    canvas = Image.new("RGB", (max(r.width for r in rows), sum(r.height for r in rows)), "white")
    y = 0
    for row in rows:
        canvas.paste(row, (0, y))
        y += row.height
    canvas.save(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="step", required=True)
    run_parser = sub.add_parser("run")
    run_parser.add_argument("out", type=Path)
    run_parser.add_argument("--shared", type=Path, default=SHARED)
    compose_parser = sub.add_parser("compose")
    compose_parser.add_argument("figure", type=Path)
    compose_parser.add_argument("columns", nargs="+", help="FOLDER:LABEL")
    for step in (run_parser, compose_parser):
        step.add_argument(
            "--photo", action="append", help="FILE:TOP,LEFT,HEIGHT,WIDTH instead of the crops"
        )
    args = parser.parse_args()
    crops = parse_crops(args.photo)
    if args.step == "run":
        run(args.out, args.shared, crops)
    else:
        compose(args.figure, args.columns, crops)


if __name__ == "__main__":
    main()
