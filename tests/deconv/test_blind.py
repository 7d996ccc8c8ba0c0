import dataclasses

import numpy as np
import pytest

from deblurgan.blur.apply import blur_image
from deblurgan.deconv import blind
from deblurgan.deconv.blind import BlindDeconvolution, BlindSettings, deconvolve_rgb
from deblurgan.deconv.blur_verdict import MIN_BLUR_SPREAD, kernel_spread
from deblurgan.deconv.kernel_estimation import EstimationSettings, pyramid_sizes
from deblurgan.deconv.kernel_shape import crop_to_support
from deblurgan.evaluation.scoring import score
from deblurgan.metrics import psnr

from .conftest import line_kernel, shapes_scene

# round 6's pair of estimates on the encoded values, as an option
PAIR = BlindSettings(
    estimation=EstimationSettings(iterations=12),
    alternatives=(EstimationSettings(weight=8e-3, finest_weight=1e-3),),
    gammas=(1.0,),
)


def colour_scene(size: int = 128) -> np.ndarray:
    return np.stack([shapes_scene(size, seed) for seed in (0, 1, 2)], axis=-1)


def test_blurred_colour_image_gets_sharper_and_the_kernel_back():
    sharp = colour_scene()
    kernel = line_kernel(15, 11, 4)
    rng = np.random.default_rng(0)
    blurred = np.clip(blur_image(sharp, kernel, noise_std=0.003, rng=rng), 0, 1)
    result = BlindDeconvolution(kernel_size=15).restore(blurred.astype(np.float32))
    assert result.note is None and result.kernel.shape == (15, 15)
    assert kernel_spread(result.kernel) >= MIN_BLUR_SPREAD
    gain = score(result.rgb, sharp, align=3)["psnr"] - score(blurred, sharp, align=3)["psnr"]
    assert gain > 3.0  # aligned: a blind estimate may put the kernel's origin a pixel off
    assert np.isfinite(result.rgb).all() and result.rgb.dtype == np.float32


def test_a_sharp_photo_comes_back_unchanged():
    sharp = colour_scene()
    result = BlindDeconvolution(kernel_size=15).restore(sharp)
    assert np.array_equal(result.rgb, sharp)
    assert "no blur found" in result.note and kernel_spread(result.kernel) < MIN_BLUR_SPREAD


def test_same_input_same_output():
    blurred = blur_image(colour_scene(), line_kernel()).astype(np.float32)
    method = BlindDeconvolution()
    assert np.array_equal(method(blurred), method(blurred))


def test_stacks_are_deblurred_image_by_image():
    blurred = blur_image(colour_scene(64), line_kernel(9, 7, 2)).astype(np.float32)
    method = BlindDeconvolution(kernel_size=9)
    stack = method(np.stack([blurred, blurred[::-1]]))
    assert np.array_equal(stack[0], method(blurred)) and stack.shape == (2, 64, 64, 3)
    assert np.array_equal(stack[1], method(blurred[::-1]))  # the second with its own kernel


@pytest.mark.parametrize(
    "image, reason",
    [
        (np.full((64, 64, 3), 0.4, np.float32), "flat"),
        (np.zeros((64, 64, 3), np.float32), "flat"),
        (np.random.default_rng(0).random((20, 30, 3)).astype(np.float32), "too small"),
    ],
)
def test_nothing_to_estimate_returns_the_input_with_a_note(image, reason):
    result = BlindDeconvolution().restore(image)
    assert np.array_equal(result.rgb, image) and reason in result.note


def test_pure_noise_is_returned_unchanged_with_a_note():
    noise = np.random.default_rng(1).random((96, 96, 3)).astype(np.float32)
    result = BlindDeconvolution().restore(noise)
    assert np.array_equal(result.rgb, noise) and "returned unchanged" in result.note


def test_a_kernel_over_a_seventh_of_the_shorter_side_is_refused_with_the_limit():
    with pytest.raises(ValueError, match="at most 5 px"):
        BlindDeconvolution(kernel_size=51).restore(np.zeros((40, 60, 3), np.float32))
    with pytest.raises(ValueError, match="at most 35 px"):
        BlindDeconvolution(kernel_size=37).restore(np.zeros((255, 300, 3), np.float32))
    assert BlindDeconvolution(kernel_size=35).estimate(np.zeros((255, 300, 3), np.float32))
    with pytest.raises(ValueError, match="odd"):
        BlindDeconvolution(kernel_size=8)


def test_tiled_deconvolution_matches_whole_image(monkeypatch):
    import deblurgan.deconv.blind as blind

    blurred = blur_image(colour_scene(160), line_kernel(9, 7, 2)).astype(np.float32)
    kernel = line_kernel(9, 7, 2)
    whole = deconvolve_rgb(blurred, kernel, 2000.0)
    monkeypatch.setattr(blind, "TILE", 96)
    tiled = deconvolve_rgb(blurred, kernel, 2000.0)
    assert psnr(tiled, whole) > 40.0  # tiles agree with the whole image up to border effects


def test_gray_images_are_deconvolved_once_and_stay_gray():
    gray = np.repeat(shapes_scene(96)[..., None], 3, axis=2)
    out = deconvolve_rgb(blur_image(gray, line_kernel()), line_kernel(), 2000.0)
    assert np.array_equal(out[..., 0], out[..., 1]) and np.array_equal(out[..., 0], out[..., 2])


def test_the_no_blur_decision_is_taken_at_the_estimation_scale(monkeypatch):
    import deblurgan.deconv.blind as blind

    sharp = colour_scene(192)
    assert BlindDeconvolution(kernel_size=21).restore(sharp).note.startswith("no blur found")
    monkeypatch.setattr(blind, "ESTIMATION_LONG_SIDE", 96)  # estimate at half size
    result = BlindDeconvolution(kernel_size=21).restore(sharp)
    assert result.kernel.shape == (21, 21)  # the kernel comes back at full size ...
    assert result.note.startswith("no blur found") and np.array_equal(result.rgb, sharp)
    assert kernel_spread(result.kernel) > kernel_spread(np.pad(np.ones((1, 1)), 10))  # ... spread


def test_a_thin_panorama_is_left_alone_with_a_note(monkeypatch):
    import deblurgan.deconv.blind as blind

    monkeypatch.setattr(blind, "ESTIMATION_LONG_SIDE", 100)
    strip = np.tile(colour_scene(40), (1, 10, 1))  # 40 x 400: 10 x 100 at estimation scale
    result = BlindDeconvolution().restore(strip)
    assert "too narrow" in result.note and np.array_equal(result.rgb, strip)


def test_stages_are_reported_in_order_and_a_raising_callback_stops_the_work():
    from deblurgan.deconv.blind import ESTIMATING, SHARPENING

    blurred = blur_image(colour_scene(64), line_kernel(9, 7, 2)).astype(np.float32)
    heard: list[tuple[str, float]] = []
    BlindDeconvolution(kernel_size=9, on_stage=lambda s, f: heard.append((s, f))).restore(blurred)
    stages = [s for s, _ in heard]
    assert stages[0] == ESTIMATING and stages[-1] == SHARPENING
    assert stages.index(SHARPENING) > len(stages) - stages[::-1].index(ESTIMATING) - 1
    for stage in (ESTIMATING, SHARPENING):
        fractions = [f for s, f in heard if s == stage]
        assert fractions == sorted(fractions) and 0 <= fractions[0] and fractions[-1] <= 1
        assert len(fractions) >= 6  # often enough to cancel within a fraction of a stage
    # every round of the estimate at both gammas (8 a level), each also heard once before
    # its first
    estimating = [f for s, f in heard if s == ESTIMATING]
    assert estimating[-1] == 1.0 and len(estimating) == len(pyramid_sizes(9)) * (8 + 8) + 2

    class Cancelled(Exception):
        pass

    def cancel_when_sharpening(stage: str, fraction: float) -> None:
        if stage == SHARPENING:
            raise Cancelled

    with pytest.raises(Cancelled):
        BlindDeconvolution(kernel_size=9, on_stage=cancel_when_sharpening).restore(blurred)


def test_the_kernel_size_follows_the_blur():
    sharp = colour_scene(192)
    small = BlindDeconvolution().estimate(blur_image(sharp, line_kernel(31, 5, 0)))
    large = BlindDeconvolution().estimate(blur_image(sharp, line_kernel(31, 17, 6)))
    assert small.kernel.shape[0] < 13 <= large.kernel.shape[0] <= 27
    assert np.isclose(small.kernel.sum(), 1.0) and np.isclose(large.kernel.sum(), 1.0)


def test_images_from_32_px_are_estimated_and_smaller_ones_left_alone():
    textured = np.random.default_rng(0).random((32, 32, 3)).astype(np.float32)
    small = BlindDeconvolution(kernel_size=3).restore(textured[:31, :31])
    assert "too small" in small.note
    assert "too small" not in (BlindDeconvolution(kernel_size=3).restore(textured).note or "")


def test_ringing_suppression_softens_an_imperfect_kernel_and_is_the_default():
    from deblurgan.deconv.blind import BlindSettings
    from deblurgan.deconv.kernel_shape import resize_kernel

    sharp = colour_scene(96)
    rng = np.random.default_rng(0)
    blurred = blur_image(sharp, line_kernel(15, 9, 4), noise_std=0.003, rng=rng)
    blurred = np.clip(blurred, 0, 1).astype(np.float32)
    wrong = resize_kernel(line_kernel(15, 9, 4), 19)  # 1.3 times too long
    default = BlindDeconvolution().deconvolve(blurred, wrong)
    off, on = (
        BlindDeconvolution(settings=BlindSettings(suppress_ringing=flag)).deconvolve(blurred, wrong)
        for flag in (False, True)
    )
    assert np.array_equal(default, on)  # the default is the stated one
    assert psnr(on, sharp) > psnr(off, sharp) + 0.5
    assert on.dtype == np.float32 and 0 <= on.min() and on.max() <= 1


def test_the_prior_exponent_reaches_the_final_deconvolution():
    # With exponent 2 the prior is quadratic and the deconvolution a linear filter: an
    # affine change of the input's levels comes out as the same change of the output's.
    # Under a sparse prior (2/3, the default, or 0.8) it does not.
    kernel = line_kernel(11, 9, 3)
    low_contrast = 0.3 + 0.4 * colour_scene(96)
    blurred = blur_image(low_contrast, kernel).astype(np.float32)

    def deconvolved(exponent: float, image: np.ndarray) -> np.ndarray:
        settings = BlindSettings(  # data weight pinned at 200: the noise level plays no part
            prior_exponent=exponent, suppress_ringing=False, max_data_weight=200.0
        )
        return BlindDeconvolution(settings=settings).deconvolve(image, kernel)

    def equivariance_error(exponent: float) -> float:
        direct = deconvolved(exponent, blurred)
        changed = (deconvolved(exponent, 0.5 * blurred + 0.25) - 0.25) / 0.5
        inside = (direct > 0.01) & (direct < 0.99)
        return float(np.abs(changed - direct)[inside].max())

    assert equivariance_error(2.0) < 1e-3
    assert equivariance_error(0.8) > 0.02 and equivariance_error(2 / 3) > 0.02
    default = BlindDeconvolution().deconvolve(blurred, kernel)
    stated = BlindSettings(prior_exponent=2 / 3)
    assert np.array_equal(default, BlindDeconvolution(settings=stated).deconvolve(blurred, kernel))
    assert BlindSettings(prior_exponent=2.0).prior_exponent == 2.0
    for outside in (0.0, 2.01, float("nan")):
        with pytest.raises(ValueError, match="prior_exponent"):
            BlindSettings(prior_exponent=outside)


def test_a_sharp_photo_comes_back_unchanged_with_ringing_suppression():
    from deblurgan.deconv.blind import BlindSettings

    sharp = colour_scene()
    settings = BlindSettings(suppress_ringing=True)
    result = BlindDeconvolution(kernel_size=15, settings=settings).restore(sharp)
    assert np.array_equal(result.rgb, sharp) and "no blur found" in result.note


def test_tiled_ringing_suppression_matches_the_whole_image(monkeypatch):
    import deblurgan.deconv.blind as blind

    kernel = line_kernel(9, 7, 2)
    blurred = blur_image(colour_scene(160), kernel).astype(np.float32)
    whole = deconvolve_rgb(blurred, kernel, 2000.0, suppress_ringing=True)
    monkeypatch.setattr(blind, "TILE", 96)
    tiled = deconvolve_rgb(blurred, kernel, 2000.0, suppress_ringing=True)
    assert psnr(tiled, whole) > 35.0
    assert not np.allclose(whole, deconvolve_rgb(blurred, kernel, 2000.0), atol=1e-3)


@pytest.mark.parametrize(
    ("choice", "chooser"), [("sparsity", "sparsest_result"), ("spectrum", "best_by_spectrum")]
)
def test_the_kernel_is_chosen_among_two_estimates_as_the_settings_say(monkeypatch, choice, chooser):
    blurred = blur_image(colour_scene(), line_kernel(15, 11, 4)).astype(np.float32)
    offered = []

    def spy(gray: np.ndarray, kernels: list[np.ndarray], *weight_and_exponent: float) -> int:
        offered.append((kernels, weight_and_exponent))
        return 1

    monkeypatch.setattr(blind, chooser, spy)
    settings = dataclasses.replace(PAIR, choice=choice, prior_exponent=0.8)
    found = BlindDeconvolution(kernel_size=15, settings=settings).estimate(blurred)
    ((kernels, extra),) = offered
    monkeypatch.undo()
    estimates = []
    for estimation in (PAIR.estimation, *PAIR.alternatives):  # each as if run alone
        alone = BlindSettings(estimation=estimation, gammas=(1.0,))
        estimates.append(BlindDeconvolution(15, settings=alone).estimate(blurred).small)
    assert len(kernels) == 2
    for estimate, offer in zip(estimates, kernels):  # a given kernel size is kept
        assert np.array_equal(estimate, offer)
    assert np.array_equal(found.small, estimates[1])  # the chosen estimate, whole
    if choice == "sparsity":  # deconvolved with the final step's weight and prior
        assert extra == (BlindDeconvolution(settings=settings).data_weight(blurred), 0.8)


def test_the_sparsity_sees_the_estimates_cropped_as_the_final_step_uses_them(monkeypatch):
    blurred = blur_image(colour_scene(), line_kernel(15, 11, 4)).astype(np.float32)
    offered = []

    def spy(gray: np.ndarray, kernels: list[np.ndarray], *weight_and_exponent: float) -> int:
        offered.append(kernels)
        return 0

    monkeypatch.setattr(blind, "sparsest_result", spy)
    found = BlindDeconvolution(settings=dataclasses.replace(PAIR, choice="sparsity")).estimate(
        blurred
    )
    ((first, second),) = offered
    assert np.array_equal(first, crop_to_support(found.small))  # the chosen one, cropped
    assert first.shape[0] < found.small.shape[0] and second.shape[0] < found.small.shape[0]


def test_the_spectrum_chooses_by_default_and_an_unknown_choice_is_refused():
    assert BlindSettings().choice == "spectrum"
    with pytest.raises(ValueError, match="choice must be one of"):
        BlindSettings(choice="energy")


def test_the_kernel_is_estimated_and_removed_at_the_gamma_its_spectrum_prefers(monkeypatch):
    blurred = blur_image(colour_scene(), line_kernel(15, 11, 4)).astype(np.float32)
    seen = []

    def spy(grays: list[np.ndarray], kernels: list[np.ndarray]) -> int:
        seen.append((grays, kernels))
        return 1  # linear light

    monkeypatch.setattr(blind, "best_domain", spy)
    method = BlindDeconvolution(kernel_size=15)
    found = method.estimate(blurred)
    ((grays, kernels),) = seen
    assert BlindSettings().gammas == (1.0, 2.2) and found.gamma == 2.2
    # each gamma's estimate as if the method ran at that gamma alone (this image is smaller
    # than the window, so both see all of it)
    linear = BlindDeconvolution(15, settings=BlindSettings(gammas=(2.2,))).estimate(blurred)
    np.testing.assert_allclose(grays[1], linear.gray, rtol=1e-6)
    assert np.array_equal(kernels[1], linear.small) and np.array_equal(found.small, linear.small)
    # removed at the chosen gamma
    restored = method.restore(blurred)
    assert np.array_equal(restored.rgb, method.deconvolve(blurred, found.kernel, 2.2))
    assert not np.array_equal(restored.rgb, method.deconvolve(blurred, found.kernel, 1.0))
    with pytest.raises(ValueError, match="gammas must be"):
        BlindSettings(gammas=())


def test_with_a_pair_at_two_gammas_the_last_estimate_picks_the_gamma_and_the_pair_runs_there(
    monkeypatch,
):
    blurred = blur_image(colour_scene(), line_kernel(15, 11, 4)).astype(np.float32)
    picked, offered = [], []
    monkeypatch.setattr(blind, "best_domain", lambda grays, kernels: picked.append(1) or 1)

    def spy(gray: np.ndarray, kernels: list[np.ndarray]) -> int:
        offered.append(kernels)
        return 0

    monkeypatch.setattr(blind, "best_by_spectrum", spy)
    found = BlindDeconvolution(15, settings=dataclasses.replace(PAIR, gammas=(1.0, 2.2))).estimate(
        blurred
    )
    monkeypatch.undo()
    assert picked == [1] and found.gamma == 2.2
    ((first, last),) = offered  # the pair in its order, both in linear light
    for estimation, kernel in zip((PAIR.estimation, *PAIR.alternatives), (first, last)):
        alone = BlindSettings(estimation=estimation, gammas=(2.2,))
        estimate = BlindDeconvolution(15, settings=alone).estimate(blurred)
        assert np.array_equal(estimate.small, kernel)
    assert np.array_equal(found.small, first)
