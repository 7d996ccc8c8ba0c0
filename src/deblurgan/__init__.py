"""deblurgan: blind motion deblurring with DeblurGAN (Kupyn et al., CVPR 2018).

The names below are imported on first use, so that importing a part of the
package (``deblurgan.train.config``, ``deblurgan.blur``) loads only that part.

Examples:
    >>> from deblurgan import build_method, read_image, write_image  # doctest: +SKIP
    >>> deblur = build_method()  # "auto": decides per photo  # doctest: +SKIP
    >>> image = read_image("photo.jpg")  # doctest: +SKIP
    >>> result = deblur.restore(image.rgb)  # result.decision says what it chose  # doctest: +SKIP
    >>> write_image("photo_sharp.png", image.with_rgb(result.rgb))  # doctest: +SKIP
    >>> from deblurgan import Deblurrer  # the network alone  # doctest: +SKIP
    >>> deblur = Deblurrer.from_checkpoint()  # the bundled model  # doctest: +SKIP
    >>> image = read_image("photo.jpg")  # doctest: +SKIP
    >>> write_image("photo_sharp.png", image.with_rgb(deblur(image.rgb)))  # doctest: +SKIP
"""

from __future__ import annotations

from deblurgan.lazy import lazy_exports
from deblurgan.version import __version__

# public name -> module that defines it
_EXPORTS = {
    "CheckpointError": "deblurgan.checkpoint",
    "load_generator": "deblurgan.checkpoint",
    "save_generator": "deblurgan.checkpoint",
    "Deblurrer": "deblurgan.inference.deblurrer",
    "restore": "deblurgan.inference.deblurrer",
    "ImageData": "deblurgan.io.images",
    "ImageReadError": "deblurgan.io.images",
    "read_image": "deblurgan.io.images",
    "write_image": "deblurgan.io.images",
    "MethodOptions": "deblurgan.methods",
    "build_method": "deblurgan.methods",
    "Critic": "deblurgan.nets",
    "Generator": "deblurgan.nets",
    "init_weights": "deblurgan.nets",
}

__all__ = ["__version__", *sorted(_EXPORTS)]


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
