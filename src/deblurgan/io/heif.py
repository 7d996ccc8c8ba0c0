"""HEIC/HEIF photos (the iPhone's default format), read through the optional ``pillow-heif``.

``pillow-heif`` (a wheel that bundles libheif) teaches Pillow to open ``.heic``/``.heif``
files, so :func:`deblurgan.io.images.read_image` reads them like any other photo: upright
(libheif applies the file's rotation and mirroring; the EXIF orientation it reports is then
1), 8 bits per channel, with the EXIF (camera, date) and colour profile kept. Nothing here
writes HEIF: a deblurred HEIC photo is written as JPEG (:data:`HEIF_OUTPUT_SUFFIX`), which
every program opens. It is an extra (``pip install "deblurgan[serve]"`` installs it); without
it a HEIC file fails with a one-line message naming the package.
"""

from __future__ import annotations

import threading
from pathlib import Path

from deblurgan.io.formats import HEIF_OUTPUT_SUFFIX, HEIF_SUFFIXES

__all__ = ["HEIF_OUTPUT_SUFFIX", "HEIF_SUFFIXES", "HeifUnavailable", "enable_heif", "is_heif"]

INSTALL_HINT = 'pip install pillow-heif (or pip install "deblurgan[serve]")'
_REGISTERED = threading.Lock()
_state = {"registered": False}


class HeifUnavailable(ValueError):
    """HEIC/HEIF cannot be read here: the optional ``pillow-heif`` is not installed."""


def is_heif(path: str | Path) -> bool:
    """Whether ``path``'s suffix is HEIC or HEIF (any case); the file is not opened.

    Examples:
        >>> is_heif("IMG_0001.HEIC"), is_heif("photo.jpg")
        (True, False)
    """
    return Path(path).suffix.lower() in HEIF_SUFFIXES


def enable_heif() -> None:
    """Teach Pillow to open HEIC/HEIF files (once per process; later calls do nothing).

    Raises:
        HeifUnavailable: ``pillow-heif`` is not installed; the message says how to install it.
    """
    with _REGISTERED:
        if _state["registered"]:
            return
        try:
            from pillow_heif import register_heif_opener
        except ImportError as err:
            raise HeifUnavailable(
                f"reading iPhone photos (HEIC/HEIF) needs the pillow-heif package: {INSTALL_HINT}"
            ) from err
        register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)
        _state["registered"] = True
