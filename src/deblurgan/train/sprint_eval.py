"""The sprint's closing evaluation: the generator on every held-out set of the pack, on
the training device, scored by PSNR and SSIM on 8-bit values, printed as one table."""

from __future__ import annotations

import contextlib

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from deblurgan.metrics import psnr, ssim
from deblurgan.nets.padding import side_padding
from deblurgan.runtime import eval_mode

Pairs = list[tuple[str, np.ndarray, np.ndarray]]


def centre_crop(image: np.ndarray, max_side: int, multiple: int = 1) -> np.ndarray:
    """The centred crop whose sides are at most ``max_side``, rounded down to ``multiple``
    where the image is larger than that.

    Shape:
        - image: :math:`(H, W, C)`; output :math:`(h, w, C)`.
    """
    sides = []
    for size in image.shape[:2]:
        sides.append(size if size <= max_side else max_side // multiple * multiple)
    (h, w), (height, width) = sides, image.shape[:2]
    top, left = (height - h) // 2, (width - w) // 2
    return image[top : top + h, left : left + w]


def restore(
    generator: nn.Module,
    blurred: np.ndarray,
    device: torch.device,
    autocast: contextlib.AbstractContextManager | None = None,
) -> np.ndarray:
    """One image through ``generator`` (eval mode, padded to its size rules), as uint8.

    Shape:
        - blurred: :math:`(H, W, 3)` uint8; output the same.
    """
    x = torch.from_numpy(np.array(blurred, copy=True)).to(device)
    x = x.permute(2, 0, 1)[None].float() / 127.5 - 1
    (top, bottom), (left, right), mode = side_padding(
        *blurred.shape[:2], generator.size_multiple, generator.min_side
    )
    x = F.pad(x, (left, right, top, bottom), mode="reflect" if mode == "reflect" else "replicate")
    with torch.no_grad(), eval_mode(generator), autocast or contextlib.nullcontext():
        y = generator(x).float()
    y = y[..., top : y.shape[-2] - bottom, left : y.shape[-1] - right]
    y = ((y.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return y[0].permute(1, 2, 0).cpu().numpy()


def evaluate_sets(
    generator: nn.Module,
    sets: dict[str, Pairs],
    device: torch.device,
    max_side: int,
    autocast: contextlib.AbstractContextManager | None = None,
) -> dict[str, dict[str, float]]:
    """Mean input and output PSNR / SSIM, mean and worst PSNR gain, per set.

    Args:
        generator: The trained generator.
        sets: Set name -> ``(name, blurred, sharp)`` uint8 pairs.
        device: Where the generator runs.
        max_side: Images are centre-cropped to at most this side first.
        autocast: Mixed-precision context of the forward passes.

    Returns:
        Set name -> ``pairs``, ``psnr_in``, ``psnr_out``, ``gain``, ``worst_gain``,
        ``ssim_in``, ``ssim_out``.
    """
    results = {}
    multiple = getattr(generator, "size_multiple", 1)
    for name, pairs in sets.items():
        rows = []
        for _, blurred, sharp in pairs:
            b = centre_crop(blurred, max_side, multiple)
            s = centre_crop(sharp, max_side, multiple)
            out = restore(generator, b, device, autocast)
            rows.append((psnr(b, s), psnr(out, s), ssim(b, s), ssim(out, s)))
        if not rows:
            continue
        a = np.array(rows)
        gains = a[:, 1] - a[:, 0]
        results[name] = {
            "pairs": len(rows),
            "psnr_in": float(a[:, 0].mean()),
            "psnr_out": float(a[:, 1].mean()),
            "gain": float(gains.mean()),
            "worst_gain": float(gains.min()),
            "ssim_in": float(a[:, 2].mean()),
            "ssim_out": float(a[:, 3].mean()),
        }
    return results


def format_table(results: dict[str, dict[str, float]]) -> str:
    """The results as one Markdown table, a row per set and the mean gain over sets.

    Examples:
        >>> row = {"pairs": 2, "psnr_in": 25.0, "psnr_out": 26.5, "gain": 1.5,
        ...        "worst_gain": 0.5, "ssim_in": 0.8, "ssim_out": 0.85}
        >>> print(format_table({"set": row}).splitlines()[2])
        | set | 2 | 25.00 | 26.50 | +1.50 | +0.50 | 0.800 | 0.850 |
    """
    lines = [
        "| set | pairs | PSNR in | PSNR out | gain dB | worst gain | SSIM in | SSIM out |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        lines.append(
            f"| {name} | {r['pairs']} | {r['psnr_in']:.2f} | {r['psnr_out']:.2f} | "
            f"{r['gain']:+.2f} | {r['worst_gain']:+.2f} | {r['ssim_in']:.3f} | "
            f"{r['ssim_out']:.3f} |"
        )
    if results:
        mean = np.mean([r["gain"] for r in results.values()])
        lines.append(f"| mean over sets | | | | {mean:+.2f} | | | |")
    return "\n".join(lines)
