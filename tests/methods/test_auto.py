"""``--method auto`` on photos: the evidence it gathers and what it does with them (the
decision on given evidence: test_decision.py)."""

from pathlib import Path

import numpy as np
import pytest

from deblurgan.blur.apply import blur_image
from deblurgan.blur.rotation import blur_by_rotation, random_rotation_shake
from deblurgan.deconv import blind
from deblurgan.deconv.blur_verdict import MIN_BLUR_SPREAD, kernel_spread
from deblurgan.methods import auto
from deblurgan.methods.auto import AutoDeblur
from deblurgan.methods.decision import NETWORK, UNIFORM, Thresholds, spread_variation
from deblurgan.restoration import Restoration

from ..deconv.conftest import ONE_ESTIMATE, line_kernel, shapes_scene

SHARED = Path(__file__).resolve().parents[3] / "shared"
T = Thresholds()


class Spy:
    """A stand-in network that records what it was given."""

    name = "network"

    def __init__(self) -> None:
        self.calls = 0

    def restore(self, rgb: np.ndarray) -> Restoration:
        self.calls += 1
        return Restoration(np.clip(rgb * 0 + 0.5, 0, 1))


def colour(size: int = 192, seed: int = 0) -> np.ndarray:
    return np.stack([shapes_scene(size, seed + s) for s in (0, 1, 2)], axis=-1)


@pytest.mark.slow
def test_a_sharp_photo_comes_back_unchanged_without_the_network():
    spy = Spy()
    sharp = colour()
    result = AutoDeblur(lambda: spy).restore(sharp)
    assert np.array_equal(result.rgb, sharp) and "no blur" in result.decision
    assert spy.calls == 0


@pytest.mark.slow
def test_one_kernel_is_removed_as_uniform_shake():
    sharp = colour(256)
    blurred = blur_image(sharp, line_kernel(15, 11, 4)).astype(np.float32)
    spy = Spy()
    result = AutoDeblur(lambda: spy).restore(blurred)
    assert "uniform camera shake" in result.decision and spy.calls == 0, result.decision


def test_the_spread_is_compared_on_its_own_grid_and_the_stage_never_steps_back(monkeypatch):
    # the other evidence on the 3x3 windows, the spread variation on a 2x3 grid (3 along
    # the longer side); the decision's stage runs once from 0 to 1 over both
    grids, heard = [], []
    measure = auto.local_kernels

    def spy(gray, kernel, reliable=None, grid=auto.WINDOW_GRID, settings=None, progress=None):
        grids.append((gray.shape[0] > gray.shape[1], grid))
        return measure(gray, kernel, reliable, grid, settings, progress)

    monkeypatch.setattr(auto, "local_kernels", spy)
    blurred = blur_image(colour(160)[:128], line_kernel(11, 9, 3)).astype(np.float32)
    method = AutoDeblur(
        lambda: Spy(), 11, on_stage=lambda *now: heard.append(now), settings=ONE_ESTIMATE
    )
    for photo in (blurred, np.ascontiguousarray(blurred.transpose(1, 0, 2))):
        grids.clear()
        heard.clear()
        seen = method.examine(photo)
        tall = photo.shape[0] > photo.shape[1]
        assert grids == [(tall, (3, 3)), (tall, (3, 2) if tall else (2, 3))]
        extents = measure(seen.found.gray, seen.found.small, seen.found.reliable, grids[1][1])
        # each window counted by its contrast; the windows are kept for reports
        assert seen.evidence.spread_variation == spread_variation(extents.kernels, extents.contrast)
        assert len(seen.extents.kernels) == 6
        for mine, measured in zip(seen.extents.kernels, extents.kernels, strict=True):
            np.testing.assert_array_equal(mine, measured)
        np.testing.assert_array_equal(seen.extents.contrast, extents.contrast)
        fractions = [f for stage, f in heard if stage == auto.COMPARING]
        assert len(fractions) == 9 + 6 and fractions == sorted(fractions)
        assert fractions[-1] == pytest.approx(1.0) and fractions[8] == pytest.approx(9 / 15)


@pytest.mark.slow
def test_a_rolled_camera_is_not_taken_for_one_kernel():
    sharp = colour(384)
    shake = random_rotation_shake(np.random.default_rng(0), sharp.shape[:2], 2, 40)
    seen = AutoDeblur(lambda: Spy()).examine(blur_by_rotation(sharp, shake))
    assert seen.decision.outcome != UNIFORM, seen.evidence
    # the corners are blurred more than the centre (0.40 when written)
    assert seen.evidence.spread_variation > T.max_spread_variation


@pytest.mark.slow
def test_a_blur_no_part_shows_on_the_reduced_copy_is_not_called_moving_objects():
    # The parts are compared on the photo reduced to 512 px, where a 7 px blur of a 1536 px
    # wide photo spreads under the no-blur bound in every window: nothing tells camera
    # shake from a dynamic scene there, and the decision says so (until round 12 it said
    # "moving objects: 9 of 9 parts of the photo are sharp while the rest is blurred")
    sharp = colour(768)
    wide = np.concatenate([sharp, sharp[:, ::-1]], axis=1)[:576]
    blurred = blur_image(wide, line_kernel(11, 7, 2)).astype(np.float32)
    heard = []
    seen = AutoDeblur(lambda: Spy(), on_stage=lambda *now: heard.append(now)).examine(blurred)
    found = seen.found
    assert found.note is None and kernel_spread(found.small) >= MIN_BLUR_SPREAD  # blurred
    local = auto.local_kernels(found.gray, found.small, found.reliable)
    assert max(kernel_spread(k) for k in local.kernels) < MIN_BLUR_SPREAD  # the case in point
    assert seen.decision.outcome == NETWORK and seen.evidence is None
    assert "too small to compare the parts" in seen.decision.words
    assert heard[-1] == (auto.COMPARING, 1.0)  # the stage ends, without the spread's grid


@pytest.mark.slow
def test_a_moving_object_on_a_still_background_is_never_deconvolved():
    # A still, sharp scene with one object that moved during the exposure (its layer and
    # its edge blurred by a 21 px line): one kernel would ring the whole frame. auto does
    # not find the object's blur yet (docs/auto.md), so it must leave the photo alone or
    # give it to the network, never deconvolve it.
    background = colour(256)
    layer, alpha = np.zeros_like(background), np.zeros((256, 256, 3), np.float32)
    layer[64:176, 80:200] = colour(256, seed=7)[64:176, 80:200]
    alpha[64:176, 80:200] = 1
    kernel = line_kernel(23, 21, 6)
    moving = blur_image(layer, kernel).astype(np.float32)
    cover = blur_image(alpha, kernel).astype(np.float32)
    photo = (background * (1 - cover) + moving).astype(np.float32)
    assert np.abs(photo - background).max() > 0.2  # the object is there, and blurred
    spy = Spy()
    result = AutoDeblur(lambda: spy).restore(photo)
    assert spy.calls == 1 or np.array_equal(result.rgb, photo), result.decision


def test_one_kernel_is_removed_at_the_gamma_l0_kept_it_at(monkeypatch):
    monkeypatch.setattr(blind, "best_domain", lambda grays, kernels: 1)  # linear light
    photo = blur_image(colour(160)[:128], line_kernel(11, 9, 3)).astype(np.float32)
    always_one = Thresholds(sharp_windows=99, max_spread_variation=99.0, min_varying_ratio=1e9)
    method = AutoDeblur(lambda: Spy(), 11, thresholds=always_one, settings=ONE_ESTIMATE)
    seen = method.examine(photo)
    assert seen.found.gamma == 2.2 and seen.decision.outcome == UNIFORM
    restored = method.restore(photo).rgb
    assert np.array_equal(restored, method.blind.deconvolve(photo, seen.found.kernel, 2.2))
    assert not np.array_equal(restored, method.blind.deconvolve(photo, seen.found.kernel, 1.0))


def test_kernels_that_vary_are_removed_at_the_gamma_l0_kept(monkeypatch):
    monkeypatch.setattr(blind, "best_domain", lambda grays, kernels: 1)  # linear light
    gammas = []
    varying = auto.deconvolve_varying

    def spy(*args, **kwargs):
        gammas.append(kwargs["gamma"])
        return varying(*args, **kwargs)

    monkeypatch.setattr(auto, "deconvolve_varying", spy)
    photo = blur_image(colour(160)[:128], line_kernel(11, 9, 3)).astype(np.float32)
    always_varying = Thresholds(sharp_windows=99, min_varying_ratio=0.0, max_varying_residual=9.0)
    method = AutoDeblur(lambda: Spy(), 11, thresholds=always_varying, settings=ONE_ESTIMATE)
    result = method.restore(photo)
    assert "varies" in result.decision and gammas == [2.2]
