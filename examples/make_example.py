"""Regenerate ``examples/blurry_coffee.jpg``: scikit-image's coffee photo with camera shake.

The blur is synthesised by this package (reference-code preset, linear light,
light sensor noise), so the example needs no data download.

    python examples/make_example.py
"""

from pathlib import Path

import numpy as np
from skimage import data

from deblurgan.blur import blur_image, sample_kernels
from deblurgan.io.images import ImageData, write_image

rng = np.random.default_rng(2018)
kernel = sample_kernels(8, rng).kernels[5, 1]  # a curved shake, half exposure
sharp = data.coffee().astype(np.float32) / 255.0  # 400 x 600 RGB
blurred = blur_image(sharp, kernel, linear_light=True, noise_std=0.005, rng=rng)
write_image(Path(__file__).with_name("blurry_coffee.jpg"), ImageData(rgb=blurred), jpeg_quality=92)
