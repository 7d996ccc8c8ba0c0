"""The file formats this package reads and writes, by suffix (lower case, with the dot).

The codec modules (:mod:`deblurgan.io.images`, :mod:`deblurgan.io.video`) check their
files against these; everything above ``io`` asks :mod:`deblurgan.io.media`.
"""

from __future__ import annotations

# HEIC/HEIF (iPhone photos) are read with the optional pillow-heif (io/heif.py), never
# written: their results are JPEG
HEIF_SUFFIXES = frozenset({".heic", ".heif"})
HEIF_OUTPUT_SUFFIX = ".jpg"
WRITABLE_IMAGE_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".gif", ".ppm", ".pgm", ".pnm"}
)
IMAGE_SUFFIXES = WRITABLE_IMAGE_SUFFIXES | HEIF_SUFFIXES  # what is read
ANIMATION_SUFFIXES = frozenset({".gif", ".webp", ".png"})  # image formats that hold frames
VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".mkv", ".avi", ".webm"})
MEDIA_SUFFIXES = IMAGE_SUFFIXES | VIDEO_SUFFIXES


def output_suffix(suffix: str) -> str:
    """The suffix a result of an input with ``suffix`` gets: JPEG for HEIC/HEIF (read, never
    written), the input's own otherwise.

    Examples:
        >>> output_suffix(".HEIC"), output_suffix(".png")
        ('.jpg', '.png')
    """
    return HEIF_OUTPUT_SUFFIX if suffix.lower() in HEIF_SUFFIXES else suffix
