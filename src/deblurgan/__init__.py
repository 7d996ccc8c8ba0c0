"""deblurgan: blind motion deblurring with DeblurGAN (Kupyn et al., CVPR 2018).

Examples:
    >>> from deblurgan import Deblurrer, read_image, write_image  # doctest: +SKIP
    >>> deblur = Deblurrer.from_checkpoint()  # the bundled model  # doctest: +SKIP
    >>> image = read_image("photo.jpg")  # doctest: +SKIP
    >>> write_image("photo_sharp.png", image.with_rgb(deblur(image.rgb)))  # doctest: +SKIP
"""

__version__ = "0.1.0"

from deblurgan.checkpoint import CheckpointError, load_generator, save_generator  # noqa: E402
from deblurgan.inference.deblurrer import Deblurrer, restore  # noqa: E402
from deblurgan.io.images import ImageData, ImageReadError, read_image, write_image  # noqa: E402
from deblurgan.nets import Critic, Generator, init_weights  # noqa: E402

__all__ = [
    "CheckpointError",
    "Critic",
    "Deblurrer",
    "Generator",
    "ImageData",
    "ImageReadError",
    "init_weights",
    "load_generator",
    "read_image",
    "restore",
    "save_generator",
    "write_image",
]
