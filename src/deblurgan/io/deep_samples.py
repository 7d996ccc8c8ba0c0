"""16-bit PNG and TIFF samples, which Pillow truncates to 8 bits: read and written with
pypng and tifffile (:mod:`deblurgan.io.images` decides when)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import png
import tifffile

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def is_16bit_colour_png(path: Path) -> bool:
    """Whether ``path`` is a 16-bit PNG other than plain gray (colour or alpha), which
    Pillow would truncate to 8 bits."""
    with open(path, "rb") as f:
        head = f.read(26)
    # IHDR follows the signature: bytes 24 and 25 are bit depth and colour type.
    return head[:8] == _PNG_SIGNATURE and len(head) == 26 and head[24] == 16 and head[25] != 0


def read_png16(path: Path) -> np.ndarray:
    """The samples of a 16-bit PNG, as stored.

    Shape:
        - Output: :math:`(H, W, C)` uint16, C the PNG's planes (1-4).
    """
    width, height, rows, info = png.Reader(filename=str(path)).asDirect()
    planes = info["planes"]
    pixels = np.vstack([np.asarray(row, dtype=np.uint16) for row in rows])
    return pixels.reshape(height, width, planes)


def write_png16(path: Path, pixels: np.ndarray) -> None:
    """Write uint16 samples as a 16-bit PNG (gray or colour, with alpha as the last plane).

    Shape:
        - Input: :math:`(H, W)` or :math:`(H, W, C)`, C of 1-4.
    """
    height, width = pixels.shape[:2]
    planes = 1 if pixels.ndim == 2 else pixels.shape[2]
    writer = png.Writer(
        width, height, bitdepth=16, greyscale=planes in (1, 2), alpha=planes in (2, 4)
    )
    with open(path, "wb") as f:
        writer.write(f, pixels.reshape(height, width * planes))


def float_tiff_reason(path: Path) -> str | None:
    """Why a TIFF Pillow cannot open is refused, if it holds floating-point samples."""
    try:
        with tifffile.TiffFile(path) as tif:
            page = tif.pages[0]
            if page.sampleformat != tifffile.SAMPLEFORMAT.IEEEFP:
                return None
            bits = page.bitspersample
    except Exception:  # noqa: BLE001 - not a TIFF at all: the caller's message stands
        return None
    return (
        f"{bits}-bit floating-point TIFF is not supported (its range is not defined); "
        "save it with 8- or 16-bit integer samples"
    )


def tiff_bits(path: Path) -> int:
    """Bits per sample of a TIFF's first page."""
    with tifffile.TiffFile(path) as tif:
        return tif.pages[0].bitspersample
