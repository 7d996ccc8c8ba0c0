"""Reading and writing still images without losing what the network does not touch.

The network sees RGB in [0, 1]. Everything else about a file is kept aside
and restored on writing: whether it was grayscale, its alpha channel (passed
through bit for bit), its bit depth (8 or 16), its ICC profile and its EXIF
(camera, date; stored again where the format holds EXIF: JPEG, 8-bit PNG,
WebP). EXIF orientation is applied on reading, so outputs are stored upright
with orientation 1 (animations: :mod:`deblurgan.io.animation`). A camera JPEG with
embedded previews (MPO) gives its main image (written back as a plain JPEG); a
multi-page TIFF gives its first page, with a note saying so (``ImageData.note``).

Images above ``max_pixels`` (by default Pillow's decompression-bomb limit,
about 179 MP) are refused from their header, before anything is decoded.

Pillow decodes most formats; 16-bit colour PNG and TIFF, which Pillow
truncates to 8 bits, are decoded with pypng and tifffile (:mod:`deblurgan.io.deep_samples`).
"""

from __future__ import annotations

import dataclasses
import errno
import os
import threading
from pathlib import Path

import numpy as np
import png
import tifffile
from PIL import Image, UnidentifiedImageError

from deblurgan.io.atomic import atomic_path
from deblurgan.io.deep_samples import (
    float_tiff_reason,
    is_16bit_colour_png,
    read_png16,
    tiff_bits,
    write_png16,
)
from deblurgan.io.file_kind import describe_special_file
from deblurgan.io.formats import WRITABLE_IMAGE_SUFFIXES
from deblurgan.io.heif import HeifUnavailable, enable_heif, is_heif

DEFAULT_MAX_PIXELS = 2 * 89_478_485  # where Pillow refuses an image as a decompression bomb
# zlib level of 8-bit PNG outputs: on a 720p GoPro frame level 3 took 0.089 s and 890 KB,
# Pillow's default 6 took 0.297 s and 816 KB (one core), nearly the 0.38 s that the default
# int8 model takes to deblur the frame, for 8% smaller files
PNG_COMPRESS_LEVEL = 3
_EXIF_ORIENTATION = 0x0112
_EXIF_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp"})
_NO_ALPHA_SUFFIXES = frozenset({".jpg", ".jpeg", ".bmp", ".ppm", ".pgm", ".pnm"})
_BINARY_ALPHA_SUFFIXES = frozenset({".gif"})  # one palette entry is transparent
_PILLOW_LIMIT = threading.Lock()


class ImageReadError(ValueError):
    """A file cannot be decoded as an image; the message names the file and the cause."""


class ImageWriteError(ValueError):
    """An image cannot be stored in the requested file format."""


@dataclasses.dataclass(frozen=True)
class ImageData:
    """A decoded image: RGB for the network, plus what must survive the round trip.

    Attributes:
        rgb: Float32 array of shape (H, W, 3) in [0, 1]; gray images have three
            equal channels.
        alpha: The alpha channel as stored (uint8 or uint16, shape (H, W)), or None.
        gray: The source had one colour channel; it is written back as gray.
        bit_depth: 8 or 16 bits per channel in the source.
        icc_profile: The embedded colour profile, if any.
        exif: The EXIF block with orientation reset to 1, if the source had
            tags other than orientation.
        note: What the user should know about how the file was read (only the first
            page of a multi-page TIFF), or None.
        orientation: The EXIF orientation that reading applied to turn the pixels upright
            (1: stored upright).
    """

    rgb: np.ndarray
    alpha: np.ndarray | None = None
    gray: bool = False
    bit_depth: int = 8
    icc_profile: bytes | None = None
    exif: bytes | None = None
    note: str | None = None
    orientation: int = 1

    def with_rgb(self, rgb: np.ndarray) -> ImageData:
        """The same image with new pixels (e.g. the deblurred ones)."""
        if rgb.shape != self.rgb.shape:
            raise ValueError(f"new pixels have shape {rgb.shape}, expected {self.rgb.shape}")
        return dataclasses.replace(self, rgb=rgb)


def read_image(path: str | os.PathLike, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> ImageData:
    """Decode an image file, upright, as :class:`ImageData`.

    Args:
        path: The file.
        max_pixels: Refuse larger images (width x height) from the header; None: no limit.

    Raises:
        ImageReadError: Missing, empty, a folder, a pipe or device (never read),
            unreadable (permissions, a link loop), truncated, not an image, animated,
            too large, or an unsupported pixel format; the message says which.
    """
    path = checked_file(Path(path))
    try:
        with open_image(path, max_pixels) as im:
            frames, note = getattr(im, "n_frames", 1), None
            if frames > 1 and im.format == "MPO":
                pass  # a camera JPEG with embedded previews: the first frame is the photo
            elif frames > 1 and im.format == "TIFF":  # the first page; a documented choice
                note = f"a TIFF of {frames} pages: only the first page is read and deblurred"
            elif frames > 1:
                raise ImageReadError(
                    f"{path}: animated image with {frames} frames; `deblurgan deblur` deblurs "
                    "every frame, other commands take still images"
                )
            orientation, exif = _upright_exif(im)
            icc = im.info.get("icc_profile")
            if is_16bit_colour_png(path):
                pixels = read_png16(path)
            elif im.format == "TIFF" and tiff_bits(path) == 16:
                pixels = tifffile.imread(path, key=0)
            else:
                im.load()
                pixels = _pillow_pixels(im)
    except (ImageReadError, OSError, SyntaxError, ValueError, png.Error) as err:
        raise read_error(path, err) from err
    image = image_data_from_pixels(path, apply_exif_orientation(pixels, orientation), icc)
    return dataclasses.replace(image, exif=exif, note=note, orientation=orientation)


def check_image_header(
    path: str | os.PathLike, max_pixels: int | None = DEFAULT_MAX_PIXELS
) -> None:
    """Check, from its header only, that ``path`` is an image :func:`read_image` can take.

    Cheap enough for every file of a dataset at start-up; a file damaged after
    its header is found only when decoded.

    Raises:
        ImageReadError: As :func:`read_image`.
    """
    path = checked_file(Path(path))
    try:
        with open_image(path, max_pixels):
            pass
    except (ImageReadError, OSError, SyntaxError, ValueError) as err:
        raise read_error(path, err) from err


def write_image(
    path: str | os.PathLike, image: ImageData, jpeg_quality: int = 95, replace: bool = True
) -> None:
    """Encode ``image`` to ``path`` atomically; the format follows the suffix. With
    ``replace`` False an existing ``path`` (even one another process creates meanwhile)
    raises ``FileExistsError`` and is kept.

    16-bit depth is kept in PNG and TIFF; other formats store 8 bits. Alpha is
    kept where the format can hold it; JPEG, BMP and PNM cannot, GIF only an alpha of
    fully transparent and opaque pixels (:func:`alpha_refusal`), so those raise. EXIF is
    kept in JPEG, 8-bit PNG and WebP.

    Raises:
        ImageWriteError: The suffix is unknown or cannot hold the image's alpha.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if is_heif(path):
        raise ImageWriteError(f"{path}: HEIC/HEIF is read, not written; use .jpg or .png")
    if suffix not in WRITABLE_IMAGE_SUFFIXES:
        raise ImageWriteError(f"{path}: unknown image suffix {suffix!r}")
    refusal = alpha_refusal(image.alpha, suffix)
    if refusal is not None:
        raise ImageWriteError(f"{path}: {suffix} {refusal}; use .png or .tif")
    depth = image.bit_depth if suffix in {".png", ".tif", ".tiff"} else 8
    pixels = pixels_for_file(image, depth)
    with atomic_path(path, replace) as tmp:
        if suffix in {".tif", ".tiff"}:
            tifffile.imwrite(tmp, pixels, compression="zlib", iccprofile=image.icc_profile)
        elif suffix == ".png" and depth == 16:
            write_png16(tmp, pixels)
        else:
            _pillow_save(tmp, pixels, suffix, image, jpeg_quality)


def alpha_refusal(alpha: np.ndarray | None, suffix: str) -> str | None:
    """Why a file with ``suffix`` cannot keep ``alpha`` as it is, or None where it can (or
    there is none): JPEG, BMP and the PNM formats store no alpha (Pillow's BMP drops it), GIF
    only fully transparent or opaque pixels.

    Examples:
        >>> alpha_refusal(np.array([[0, 255]], np.uint8), ".gif") is None
        True
        >>> alpha_refusal(np.array([[0, 128]], np.uint8), ".gif")
        'stores only fully transparent or opaque pixels, and this alpha has levels between'
    """
    if alpha is None or suffix not in _NO_ALPHA_SUFFIXES | _BINARY_ALPHA_SUFFIXES:
        return None
    if suffix in _NO_ALPHA_SUFFIXES:
        return "cannot store the alpha channel"
    if np.isin(alpha, (0, np.iinfo(alpha.dtype).max)).all():
        return None
    return "stores only fully transparent or opaque pixels, and this alpha has levels between"


def apply_exif_orientation(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """Turn a stored pixel array upright according to its EXIF orientation (1-8).

    Shape:
        - Input: :math:`(H, W)` or :math:`(H, W, C)`.
        - Output: the same, with H and W swapped for orientations 5-8.
    """
    transforms = {
        1: lambda a: a,
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: a.swapaxes(0, 1),
        6: lambda a: np.rot90(a, -1),
        7: lambda a: np.rot90(a.swapaxes(0, 1), 2),
        8: lambda a: np.rot90(a, 1),
    }
    return np.ascontiguousarray(transforms.get(orientation, transforms[1])(pixels))


def checked_file(path: Path) -> Path:
    """``path``, if it is a non-empty regular file (or a link to one).

    Raises:
        ImageReadError: A broken link or link loop, a folder, a missing or empty file,
            a pipe or device; the message says which.
    """
    if path.is_symlink() and not path.exists():
        try:
            path.stat()
        except OSError as err:
            if err.errno == errno.ELOOP:
                raise ImageReadError(f"{path}: symbolic link loop") from err
        raise ImageReadError(f"{path}: broken symbolic link (to {os.readlink(path)})")
    if path.is_dir():
        raise ImageReadError(f"{path}: is a directory, not an image file")
    if not path.exists():
        raise ImageReadError(f"{path}: no such file")
    special = describe_special_file(path)
    if special is not None:  # a pipe or device: reading would block or never end
        raise ImageReadError(special)
    if path.stat().st_size == 0:
        raise ImageReadError(f"{path}: empty file (0 bytes)")
    return path


def pixel_count(pixels: int) -> str:
    """A pixel count for people: megapixels from 1 MP up, else pixels.

    Examples:
        >>> pixel_count(19_200), pixel_count(178_956_970)
        ('19,200 pixels', '179.0 MP')
    """
    return f"{pixels / 1e6:.1f} MP" if pixels >= 10**6 else f"{pixels:,} pixels"


def open_image(path: Path, max_pixels: int | None) -> Image.Image:
    """``Image.open`` with our pixel limit instead of Pillow's global one."""
    if is_heif(path):
        try:
            enable_heif()
        except HeifUnavailable as err:
            raise ImageReadError(f"{path}: {err}") from err
    with _PILLOW_LIMIT:
        pillow_limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
        try:
            im = Image.open(path)
        finally:
            Image.MAX_IMAGE_PIXELS = pillow_limit
    width, height = im.size
    if max_pixels is not None and width * height > max_pixels:
        im.close()
        raise ImageReadError(
            f"{path}: {width}x{height} is {pixel_count(width * height)}, above the limit of "
            f"{pixel_count(max_pixels)} (a guard against decompression bombs); raise it with "
            "--max-pixels if you trust the file (large images are deblurred in tiles)"
        )
    return im


def read_error(path: Path, err: BaseException) -> ImageReadError:
    """Our error for a failed decode, naming the real cause."""
    if isinstance(err, ImageReadError):
        return err if str(err).startswith(str(path)) else ImageReadError(f"{path}: {err}")
    if isinstance(err, UnidentifiedImageError):
        cause = float_tiff_reason(path) or f"not a readable image ({err})"
        return ImageReadError(f"{path}: {cause}")
    if isinstance(err, PermissionError):
        return ImageReadError(f"{path}: permission denied (the file cannot be opened for reading)")
    if isinstance(err, OSError) and err.errno is not None:  # the system's, not the decoder's
        return ImageReadError(f"{path}: cannot read the file ({err.strerror})")
    return ImageReadError(f"{path}: corrupt or truncated image ({err})")


def _upright_exif(im: Image.Image) -> tuple[int, bytes | None]:
    """The EXIF orientation, and the EXIF block to keep (orientation 1), if it says more."""
    exif = im.getexif()
    orientation = exif.get(_EXIF_ORIENTATION, 1)
    if not set(exif) - {_EXIF_ORIENTATION}:
        return orientation, None
    if _EXIF_ORIENTATION in exif:
        exif[_EXIF_ORIENTATION] = 1
    return orientation, exif.tobytes()


def _pillow_pixels(im: Image.Image) -> np.ndarray:
    if im.mode in {"I;16", "I;16L", "I;16B", "I;16N"}:
        return np.asarray(im).astype(np.uint16)
    if im.mode == "I":
        values = np.asarray(im)
        if values.min() < 0 or values.max() > 65535:
            raise ImageReadError("32-bit integer pixels outside 0..65535 are not supported")
        return values.astype(np.uint16)
    if im.mode == "F":
        raise ImageReadError("32-bit float pixels are not supported")
    if im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    elif im.mode == "PA":
        im = im.convert("RGBA")
    elif im.mode == "1":
        im = im.convert("L")
    elif im.mode not in {"L", "LA", "RGB", "RGBA"}:
        im = im.convert("RGB")  # CMYK, YCbCr, LAB, HSV, RGBX, ...
    return np.asarray(im)


def image_data_from_pixels(path: Path, pixels: np.ndarray, icc: bytes | None) -> ImageData:
    """:class:`ImageData` from decoded uint8 or uint16 samples (gray, gray+alpha, RGB or
    RGBA; ``path`` names the file in errors).

    Shape:
        - Input: :math:`(H, W)` or :math:`(H, W, C)`, C of 1-4.
    """
    if pixels.dtype not in (np.uint8, np.uint16):
        raise ImageReadError(f"{path}: unsupported sample type {pixels.dtype}")
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    if pixels.ndim != 3 or pixels.shape[2] not in (1, 2, 3, 4) or min(pixels.shape[:2]) < 1:
        raise ImageReadError(f"{path}: unsupported pixel layout {pixels.shape}")
    channels = pixels.shape[2]
    colour, alpha = (pixels[..., :-1], pixels[..., -1]) if channels in (2, 4) else (pixels, None)
    scale = np.float32(255.0 if pixels.dtype == np.uint8 else 65535.0)
    rgb = colour.astype(np.float32) / scale
    gray = rgb.shape[2] == 1
    if gray:
        rgb = np.repeat(rgb, 3, axis=2)
    return ImageData(
        rgb=rgb,
        alpha=None if alpha is None else alpha.copy(),
        gray=gray,
        bit_depth=8 if pixels.dtype == np.uint8 else 16,
        icc_profile=icc,
    )


def pixels_for_file(image: ImageData, depth: int) -> np.ndarray:
    """The samples to store for ``image`` at ``depth`` (8 or 16) bits: gray as one channel,
    alpha appended as it was read (rescaled only from 16 to 8 bits).

    Shape:
        - Output: :math:`(H, W)` or :math:`(H, W, C)`, C of 2-4; uint8 or uint16.
    """
    dtype, scale = (np.uint8, 255.0) if depth == 8 else (np.uint16, 65535.0)
    rgb = image.rgb.mean(axis=2, keepdims=True) if image.gray else image.rgb
    pixels = np.clip(np.rint(rgb * scale), 0, scale).astype(dtype)
    if image.alpha is not None:
        alpha = image.alpha
        if alpha.dtype != dtype:  # only when a 16-bit image goes to an 8-bit format
            alpha = (alpha.astype(np.float64) * (scale / np.iinfo(alpha.dtype).max)).round()
        pixels = np.concatenate([pixels, alpha.astype(dtype)[..., None]], axis=2)
    return pixels[..., 0] if pixels.shape[2] == 1 else pixels


def _pillow_save(
    path: Path, pixels: np.ndarray, suffix: str, image: ImageData, quality: int
) -> None:
    if pixels.dtype == np.uint16:  # 16-bit gray PNG without alpha: Pillow's I;16 holds it
        im = Image.fromarray(pixels, mode="I;16")
    else:
        im = Image.fromarray(pixels)
    options: dict = {"icc_profile": image.icc_profile} if image.icc_profile else {}
    if image.exif and suffix in _EXIF_SUFFIXES:
        options["exif"] = image.exif
    if suffix in {".jpg", ".jpeg"}:
        options.update(quality=quality, subsampling=0)
    elif suffix == ".webp":
        options.update(quality=quality)
    elif suffix == ".png":
        options.update(compress_level=PNG_COMPRESS_LEVEL)
    im.save(path, **options)
