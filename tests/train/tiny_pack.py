"""A tiny sprint pack written from random smooth images, for the sprint's tests."""

import json
from pathlib import Path

import numpy as np
from PIL import Image


def smooth_image(rng: np.random.Generator, side: int) -> np.ndarray:
    """uint8 RGB: coarse noise blown up, so crops have edges and flat parts."""
    coarse = rng.random((side // 8 + 1, side // 8 + 1, 3))
    big = np.kron(coarse, np.ones((8, 8, 1)))[:side, :side]
    return (big * 255).astype(np.uint8)


def write_tiny_pack(root: Path, seed: int = 0, photos: int = 4, tile: int = 48) -> Path:
    """Photos of ``tile`` px, two real pairs of 40 px, two held-out sets of two 32 px pairs."""
    rng = np.random.default_rng(seed)
    for i in range(photos):
        path = root / "train" / "sharp" / f"p{i}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(smooth_image(rng, tile)).save(path)
    for folder, side in (("train/real", 40), ("eval/set_a", 32), ("eval/set_b", 32)):
        for i in range(2):
            sharp = smooth_image(rng, side)
            blurred = ((sharp.astype(np.float32) + np.roll(sharp, 2, axis=1)) / 2).astype(np.uint8)
            for kind, pixels in (("blur", blurred), ("sharp", sharp)):
                path = root / folder / kind / f"q{i}.png"
                path.parent.mkdir(parents=True, exist_ok=True)
                Image.fromarray(pixels).save(path)
    (root / "manifest.json").write_text(json.dumps({"format": "deblurgan.sprint_pack"}))
    return root
