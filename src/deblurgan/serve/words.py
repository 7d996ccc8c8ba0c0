"""What the page says, in a photographer's words: each method in one line, the speed
settings, the limits, and what went wrong with a file and what to do about it.

The command line's words (:data:`deblurgan.methods.METHODS` summaries, error messages with
option names and paths) stay for the terminal; the page shows these instead, and keeps the
original message of a failure only as a technical detail.
"""

from __future__ import annotations

import re

# One line each, for a photographer choosing; unknown methods fall back to their name.
METHOD_WORDS = {
    "auto": (
        "Automatic (recommended)",
        "looks at each photo and picks the best fix for it, or leaves it alone if it is sharp",
    ),
    "network": (
        "Quick",
        "fast, gentle sharpening for any blurry photo or video; works on moving subjects too",
    ),
    "l0": (
        "Camera shake",
        "for a still scene blurred by a shaking hand; slower, and best on still subjects",
    ),
}
BUNDLED_MODEL = "Built-in (camera shake and motion)"
CUSTOM_MODEL = "{name} (your own)"
PRECISION_WORDS = {  # what each speed setting means to a photographer
    "auto": ("Automatic", "the fastest setting that looks the same on this computer"),
    "fp32": ("Most exact", "the slowest; every other setting is checked against it"),
    "int8": ("Fastest", "differences too small to see on most photos"),
    "bf16": ("Faster", "differences too small to see on most photos"),
    "fp16": ("Faster", "uses the graphics card; differences too small to see"),
}
READS = "Photos: JPEG, PNG, HEIC (iPhone), TIFF, WebP, GIF, BMP. Videos: MP4, MOV, AVI, MKV, WebM."
WRITES = "Results keep the photo's format; iPhone photos (HEIC) come back as JPEG."
OUT_OF_MEMORY = (
    "This computer ran out of memory on this file. Close other programs, or make the photo "
    "smaller, and try again."
)
STOPPED = (
    "The work on this file stopped unexpectedly (the computer may have run out of memory). "
    "Try it again alone, or make it smaller."
)
_PIXEL_LIMIT = re.compile(r"is ([\d.,]+ (?:MP|pixels)), above the limit of ([\d.,]+ (?:MP|pixels))")


def method_words(name: str) -> tuple[str, str]:
    """(label, one line) for a method on the page."""
    return METHOD_WORDS.get(name, (name, ""))


def mebibytes(size: int) -> str:
    """A size in MiB (2**20 bytes), the unit of ``--max-upload``, the page and the 413 reply.

    Examples:
        >>> mebibytes(512 * 2**20), mebibytes(200_000)
        ('512 MiB', '0.2 MiB')
    """
    mib = size / 2**20
    return f"{mib:.0f} MiB" if mib >= 10 else f"{mib:.1f} MiB"


def megapixels(pixels: int) -> str:
    """A pixel count in megapixels.

    Examples:
        >>> megapixels(178_956_970), megapixels(100_000)
        ('179 megapixels', '0.1 megapixels')
    """
    return f"{pixels / 1e6:.0f} megapixels" if pixels >= 10**7 else f"{pixels / 1e6:.1f} megapixels"


def _megapixels_of(count: str) -> str:
    """``"12.0 MP"`` or ``"19,200 pixels"`` (from :func:`deblurgan.io.images.pixel_count`)
    as megapixels."""
    number, unit = count.split()
    value = float(number.replace(",", ""))
    return megapixels(int(value * 1e6 if unit == "MP" else value))


def unsupported(suffix: str) -> str:
    """The message for an upload whose type the page does not read."""
    kind = f"{suffix} files" if suffix else "files without a type (no .jpg, .png ... ending)"
    return f"This page cannot read {kind}. {READS} Save it as JPEG and upload that."


def plain_error(message: str) -> str:
    """What a failed file's card says: what happened and what to do, without option names,
    paths or codec jargon. ``message`` is the error as the command line would print it."""
    text = message.lower()
    limit = _PIXEL_LIMIT.search(message)
    if limit:
        size, most = (_megapixels_of(group) for group in limit.groups())
        return f"This photo is {size}; this page takes at most {most}. Make it smaller, then retry."
    if "pillow-heif" in text:
        return (
            "iPhone photos (HEIC) need one more part on this computer: stop the page, run "
            "pip install pillow-heif, and start it again. Or export the photo as JPEG."
        )
    if "empty file" in text:
        return "This file is empty: upload it again."
    if "out of memory" in text or "cannot allocate" in text or "memoryerror" in text:
        return OUT_OF_MEMORY
    if "animated image" in text:
        return "This moving picture could not be read. Save it as a video (MP4) and try again."
    if any(word in text for word in ("not a readable image", "truncated", "corrupt", "broken")):
        return (
            "This file could not be read as a photo: it may be damaged or cut short. Open it on "
            "your computer, save it again as JPEG, and upload that."
        )
    if any(word in text for word in ("ffmpeg", "video", "codec", "container")):
        return (
            "This video could not be read. Save it again as MP4 (most phones and editors can) "
            "and upload that."
        )
    return "Something went wrong with this file. Try again; if it fails again, save it as JPEG."


_KERNEL = re.compile(r"kernel (\d+) ?px")


def outcome_words(decision: str | None, note: str | None) -> str | None:
    """What the method found and did with a photo, for its result card (None: nothing to
    say). ``decision`` is an automatic method's choice (:attr:`Restoration.decision`),
    ``note`` what a method wants the user to know (:attr:`Restoration.note`).

    Examples:
        >>> outcome_words("uniform shake, kernel 21 px", None)
        'Camera shake found (about 21 pixels of shake) and removed.'
        >>> outcome_words("blur that differs across the photo (...); network", None)[:41]
        'The blur differs from part to part of the'
        >>> outcome_words("blur too small to compare the parts of the photo; network", None)[:35]
        'The blur is too small to compare on'
    """
    said = " ".join(filter(None, (decision, note))).lower()
    if not said:
        return None
    if "too small to compare" in said:
        return (
            "The blur is too small to compare one part of the photo with another, so it could "
            "not tell camera shake from moving subjects and used the quick sharpening. If only "
            "the camera moved, try Camera shake."
        )
    if "differs across the photo" in said:
        return (
            "The blur differs from part to part of the photo (moving subjects or depth), so "
            "it used the quick sharpening: removing one camera shake could smear them. If "
            "only the camera moved, try Camera shake."
        )
    if "moving" in said or "network" in said:
        return (
            "Moving subjects found, so it used the quick sharpening: removing camera shake "
            "would smear them."
        )
    if "varies across" in said:
        return "Camera shake that differs across the photo found and removed, part by part."
    if "no blur" in said or "sharp" in said:
        return (
            "No camera shake found, so the photo is unchanged. If it looks blurred, the blur "
            "comes from focus or from moving subjects: try Quick."
        )
    if "diffuse" in said or "not a camera shake" in said:
        return (
            "The blur does not look like camera shake, so the photo is unchanged. For a "
            "moving subject or soft focus, try Quick."
        )
    if "too small" in said or "too narrow" in said:
        return "This photo is too small to measure the shake, so it is unchanged. Try Quick."
    kernel = _KERNEL.search(said)
    if "shake" in said or kernel:
        size = f" (about {kernel.group(1)} pixels of shake)" if kernel else ""
        return f"Camera shake found{size} and removed."
    return f"What it found: {decision or note}."
