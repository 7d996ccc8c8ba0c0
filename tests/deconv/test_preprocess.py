import dataclasses

import numpy as np

from deblurgan.blur.apply import blur_image
from deblurgan.deconv.blind import BlindDeconvolution
from deblurgan.deconv.estimation_region import edge_window
from deblurgan.deconv.preprocess import (
    edge_usefulness,
    from_linear,
    normalise_contrast,
    reliable_pixels,
    to_linear,
)

from .conftest import ONE_ESTIMATE, line_kernel, shapes_scene
from .test_kernel_estimation import similarity


def test_linear_light_round_trips_and_gamma_one_is_the_identity():
    values = np.linspace(0, 1, 11, dtype=np.float32)
    assert np.allclose(from_linear(to_linear(values, 2.2), 2.2), values, atol=1e-6)
    assert np.array_equal(to_linear(values, 1.0), values)


def test_contrast_normalisation_undoes_a_dark_low_contrast_copy():
    image = shapes_scene(64)
    dark = 0.05 + 0.2 * image
    assert np.allclose(normalise_contrast(dark), normalise_contrast(image), atol=1e-5)


def test_a_dark_low_contrast_copy_gives_the_same_kernel():
    kernel = line_kernel(15, 11, 4)
    sharp = shapes_scene(128)
    blurred = blur_image(sharp[..., None], kernel)[..., 0]
    dark = (0.1 + 0.25 * blurred).astype(np.float32)
    settings = dataclasses.replace(ONE_ESTIMATE, normalise=True)
    method = BlindDeconvolution(kernel_size=15, settings=settings)
    bright_kernel = method.estimate(np.repeat(blurred[..., None], 3, axis=2)).kernel
    dark_kernel = method.estimate(np.repeat(dark[..., None], 3, axis=2)).kernel
    assert similarity(bright_kernel, dark_kernel) > 0.97
    assert similarity(dark_kernel, kernel) > 0.85
    unnormalised = BlindDeconvolution(
        kernel_size=15, settings=dataclasses.replace(ONE_ESTIMATE, normalise=False)
    )
    # without the normalisation the L0 weight is 16x too strong for the dark copy
    assert similarity(unnormalised.estimate(np.repeat(dark[..., None], 3, 2)).kernel, kernel) < (
        similarity(dark_kernel, kernel)
    )


def test_pixels_near_a_clipped_highlight_are_no_evidence():
    gray = np.full((40, 40), 0.5, np.float32)
    gray[20, 20] = 1.0
    reliable = reliable_pixels(gray, 3)
    assert reliable[20, 20] == 0 and reliable[17, 23] == 0 and reliable[16, 20] == 1
    assert reliable_pixels(np.full((8, 8), 0.5, np.float32), 3) is None


def test_a_saturated_highlight_does_not_bend_the_kernel():
    kernel = line_kernel(15, 11, 4)
    scene = shapes_scene(160, seed=3) * 0.7
    scene[20:34, 120:134] = 4.0  # a light far brighter than white
    blurred = np.clip(blur_image(scene[..., None], kernel)[..., 0], 0, 1).astype(np.float32)
    rgb = np.repeat(blurred[..., None], 3, axis=2)
    masked = BlindDeconvolution(
        15, settings=dataclasses.replace(ONE_ESTIMATE, mask_clipped=True)
    ).estimate(rgb)
    plain = BlindDeconvolution(
        15, settings=dataclasses.replace(ONE_ESTIMATE, mask_clipped=False)
    ).estimate(rgb)
    assert similarity(masked.kernel, kernel) > 0.9
    assert similarity(masked.kernel, kernel) > similarity(plain.kernel, kernel)


def test_usefulness_prefers_a_long_edge_to_fine_texture():
    rng = np.random.default_rng(0)
    image = np.full((100, 200), 0.5, np.float32)
    image[:, :100] += 0.25 * rng.standard_normal((100, 100)).astype(np.float32)  # texture
    image[:, 150:] = 0.9  # one long straight edge
    useful = edge_usefulness(image)
    assert useful[:, 140:160].sum() > useful[:, :100].sum()
    assert edge_window(image, 60, useful=True)[1] > 90  # the window goes to the edge
    assert edge_window(image, 60, useful=False)[1] < 50  # raw gradient goes to the texture


def test_gamma_conversions_in_bands_are_the_one_pass_values_to_the_bit():
    from deblurgan.deconv.preprocess import from_linear, to_linear
    from deblurgan.deconv.threads import PARALLEL_PIXELS, thread_budget

    rgb = np.random.default_rng(5).uniform(-0.1, 1.1, (300, 301, 3)).astype(np.float32)
    assert rgb.size >= PARALLEL_PIXELS
    for convert, exponent in ((to_linear, 2.2), (from_linear, 1 / 2.2)):
        plain = np.clip(rgb, 0.0, 1.0).astype(np.float32) ** np.float32(exponent)
        for count in (1, 2, 3):
            with thread_budget(count):
                assert np.array_equal(convert(rgb, 2.2), plain)
    assert float(to_linear(np.float32(0.5), 2.0)) == 0.25  # a single value too
