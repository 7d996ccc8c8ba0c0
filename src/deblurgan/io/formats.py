"""The file formats this package reads and writes, by suffix (lower case, with the dot).

The codec modules (:mod:`deblurgan.io.images`, :mod:`deblurgan.io.video`) check their
files against these; everything above ``io`` asks :mod:`deblurgan.io.media`.
"""

from __future__ import annotations

IMAGE_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".gif", ".ppm", ".pgm", ".pnm"}
)
ANIMATION_SUFFIXES = frozenset({".gif", ".webp", ".png"})  # image formats that hold frames
VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".mkv", ".avi", ".webm"})
MEDIA_SUFFIXES = IMAGE_SUFFIXES | VIDEO_SUFFIXES
