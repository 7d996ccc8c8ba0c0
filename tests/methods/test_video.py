"""Videos through l0 and auto: shots, one decision per shot, kernels smooth in time."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from deblurgan.blur.apply import blur_image
from deblurgan.deconv import blind as blind_module
from deblurgan.deconv.blind import BlindDeconvolution, KernelEstimate
from deblurgan.deconv.motion_fit import InplaneMotion
from deblurgan.inference.batch import Job, run_jobs
from deblurgan.io.report import BatchReport
from deblurgan.io.video import VideoInfo, read_frames, video_writer
from deblurgan.methods.auto import AutoDeblur, Examination
from deblurgan.methods.decision import NETWORK, NONE, UNIFORM, VARYING, Decision
from deblurgan.methods.shots import find_cuts
from deblurgan.methods.video import (
    VideoDeblur,
    VideoSettings,
    blend_kernels,
    blend_motions,
    for_video,
    kernel_change,
)
from deblurgan.restoration import Restoration

from ..deconv.conftest import ONE_ESTIMATE, line_kernel, shapes_scene

KERNEL = line_kernel(11, 7, 3)


def colour(size: int = 96, seed: int = 0) -> np.ndarray:
    return np.stack([shapes_scene(size, seed + s) for s in (0, 1, 2)], axis=-1)


def noisy(rgb: np.ndarray, rng: np.random.Generator, sigma: float = 1 / 255) -> np.ndarray:
    return np.clip(rgb + rng.normal(0, sigma, rgb.shape), 0, 1).astype(np.float32)


def blurred(rgb: np.ndarray) -> np.ndarray:
    return blur_image(rgb, KERNEL).astype(np.float32)


class Network:
    """A stand-in network that records how often it ran."""

    name = "network"

    def __init__(self) -> None:
        self.calls = 0

    def restore(self, rgb: np.ndarray) -> Restoration:
        self.calls += 1
        return Restoration(np.full_like(rgb, 0.5))

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        return self.restore(rgb).rgb


class Scripted(AutoDeblur):
    """auto whose examination is given per call (the state machine without the estimate)."""

    def __init__(self, outcomes: list[str]) -> None:
        super().__init__(network=Network)
        self.outcomes, self.examined = list(outcomes), 0

    def examine(self, rgb: np.ndarray) -> Examination:
        outcome = self.outcomes[self.examined]
        self.examined += 1
        kernel = KERNEL if outcome == UNIFORM else None
        return Examination(KernelEstimate(kernel, None), Decision(outcome, f"said {outcome}"))


def test_a_cut_is_found_and_blur_noise_and_shifts_within_a_shot_are_not():
    rng = np.random.default_rng(0)
    a, b = colour(96, 0), colour(96, 20)
    frames = [noisy(a, rng), noisy(blurred(a), rng), noisy(np.roll(blurred(a), 4, 1), rng)]
    frames += [noisy(b, rng), noisy(np.roll(b, -3, 0), rng)]
    assert find_cuts(frames) == [3]
    assert find_cuts(frames[:3]) == [] and find_cuts(frames[3:]) == []


def test_l0_decides_once_per_shot_and_holds_it_for_every_frame():
    rng = np.random.default_rng(1)
    a, b = colour(96, 0), colour(96, 20)
    # Shot 1 starts sharp: left alone even when later frames blur. Shot 2 starts blurred:
    # deconvolved even on a frame where no blur shows.
    clip = [noisy(a, rng), noisy(blurred(a), rng), noisy(blurred(b), rng), noisy(b, rng)]
    video = VideoDeblur(BlindDeconvolution(settings=ONE_ESTIMATE))
    results = [video.restore(frame) for frame in clip]
    assert [(s.first, s.frames, s.outcome) for s in video.shots] == [(0, 2, NONE), (2, 2, UNIFORM)]
    for frame, result in zip(clip[:2], results[:2]):
        assert np.array_equal(result.rgb, frame) and "no blur" in result.note
    for frame, result in zip(clip[2:], results[2:]):
        assert result.kernel is not None and np.abs(result.rgb - frame).mean() > 1e-3
    assert video.decisions()[0].startswith("frames 1-2: no blur found")
    assert video.decisions()[1].startswith("frames 3-4: camera shake, kernel")


def test_auto_votes_on_the_first_frames_of_each_shot_and_keeps_the_majority_to_its_end():
    rng = np.random.default_rng(2)
    a, b, c = colour(64, 0), colour(64, 20), colour(64, 40)
    clip = [noisy(a, rng)] * 2 + [noisy(b, rng)] * 4 + [noisy(c, rng)] * 2
    # Shot 2: network, then none twice: network until the majority turns, then none.
    auto = Scripted([NONE, NONE, NETWORK, NONE, NONE, NETWORK, NETWORK])
    video = VideoDeblur(auto)
    out = video(np.stack(clip))  # a stack, as --batch gives
    assert auto.examined == 7 and auto.network().calls == 2 + 2
    assert np.array_equal(out[:2], np.stack(clip[:2])) and np.all(out[2:4] == 0.5)
    assert np.array_equal(out[4:6], np.stack(clip[4:6])) and np.all(out[6:] == 0.5)
    assert video.decisions() == [
        "frames 1-2: said none",
        "frames 3-6: said none (frames voted: network 1, none 2)",
        "frames 7-8: said network",
    ]


def test_with_one_voting_frame_the_first_frame_decides_the_whole_shot():
    clip = np.stack([colour(64, 0)] * 4)
    auto = Scripted([NETWORK, NONE, NONE, NONE])
    video = VideoDeblur(auto, VideoSettings(decide_on=1))
    assert np.all(video(clip) == 0.5) and auto.examined == 1
    assert video.decisions() == ["frames 1-4: said network"]


@pytest.mark.slow
def test_auto_leaves_a_sharp_shot_alone_and_deconvolves_every_frame_of_a_blurred_one():
    rng = np.random.default_rng(3)
    # a scene whose parts' blur varies by 0.02-0.06, well inside the bound (seed 20's by
    # 0.18-0.20, at it)
    a, b = colour(96, 0), colour(96, 40)
    clip = [noisy(a, rng) for _ in range(2)] + [noisy(blurred(b), rng) for _ in range(2)]
    network = Network()
    video = VideoDeblur(AutoDeblur(lambda: network, settings=ONE_ESTIMATE))
    results = [video.restore(frame) for frame in clip]
    assert [s.outcome for s in video.shots] == [NONE, UNIFORM] and network.calls == 0
    assert all(np.array_equal(r.rgb, f) for r, f in zip(results[:2], clip[:2]))
    assert all(np.abs(r.rgb - f).mean() > 1e-3 for r, f in zip(results[2:], clip[2:]))
    assert "uniform camera shake" in results[3].decision


def test_smoothed_kernels_change_less_from_frame_to_frame_than_independent_estimates():
    # One blur, fresh noise each frame: the true kernel never changes, the estimates do.
    rng = np.random.default_rng(4)
    scene = blurred(colour(80, 0))
    clip = [noisy(scene, rng, 3 / 255) for _ in range(6)]
    memory = 0.7
    own = [BlindDeconvolution(settings=ONE_ESTIMATE).estimate(frame).kernel for frame in clip]
    video = VideoDeblur(BlindDeconvolution(settings=ONE_ESTIMATE), VideoSettings(memory=memory))
    smooth = [video.restore(frame).kernel for frame in clip]
    jumps = [kernel_change(a, b) for a, b in zip(own[:-1], own[1:])]
    steps = [kernel_change(a, b) for a, b in zip(smooth[:-1], smooth[1:])]
    assert len(video.shots) == 1 and min(jumps) > 0.05  # the estimates do move
    # Each step moves (1 - memory) of the way to the new estimate: at most 2 (1 - memory)
    # in L1, and here much less than the estimates' own jumps.
    assert max(steps) <= 2 * (1 - memory) + 1e-6
    assert np.mean(steps) < 0.5 * np.mean(jumps)


def test_blending_centres_both_kernels_and_keeps_a_kernel():
    k = line_kernel(15, 9, 4)
    assert kernel_change(blend_kernels(k, np.roll(k, (3, -2), (0, 1)), 0.6), k) < 1e-6
    other = line_kernel(15, 9, -4)
    half = blend_kernels(k, other, 0.5)
    assert half.sum() == pytest.approx(1.0) and half.min() >= 0 and half.shape[0] % 2 == 1
    assert kernel_change(half, k) == pytest.approx(kernel_change(half, other), abs=1e-3)
    assert kernel_change(blend_kernels(k, other, 0.0), other) < 1e-6
    with pytest.raises(ValueError, match="memory"):
        blend_kernels(k, other, 1.0)


def test_blended_camera_motion_is_the_weighted_mixture_of_both_exposures():
    a = InplaneMotion(np.array([[0.0, 0.0, 0.0], [2.0, 0.0, 0.01]]), np.array([0.5, 0.5]), 0.1, 0.3)
    b = InplaneMotion(np.array([[1.0, 0.0, 0.0]]), np.array([1.0]), 0.2, 0.4)
    mixed = blend_motions(a, b, 0.75, scale=2.0)  # b's translation is 2 px at a's scale
    assert mixed.weights.sum() == pytest.approx(1.0) and mixed.residual == 0.1
    poses = {tuple(p): w for p, w in zip(mixed.poses.tolist(), mixed.weights)}
    assert poses == pytest.approx({(0.0, 0.0, 0.0): 0.375, (2.0, 0.0, 0.0): 0.25,
                                   (2.0, 0.0, 0.01): 0.375})  # fmt: skip


def test_a_fresh_state_per_video_for_l0_and_auto_and_the_network_as_it_is():
    blind = BlindDeconvolution(settings=ONE_ESTIMATE)
    assert isinstance(for_video(blind), VideoDeblur) and for_video(blind) is not for_video(blind)
    network = Network()
    assert for_video(network) is network
    with pytest.raises(TypeError):
        VideoDeblur(network)


@pytest.mark.parametrize(
    "wrong",
    [
        dict(memory=1.0),
        dict(memory=-0.1),
        dict(estimate_every=0),
        dict(cut_colours=0),
        dict(decide_on=0),
    ],
)
def test_bad_settings_are_refused_with_their_name(wrong):
    with pytest.raises(ValueError, match=next(iter(wrong)).split("_")[0]):
        VideoSettings(**wrong)


def test_estimating_every_other_frame_keeps_the_kernel_between():
    rng = np.random.default_rng(5)
    scene = blurred(colour(64, 0))
    video = VideoDeblur(
        BlindDeconvolution(settings=ONE_ESTIMATE), VideoSettings(decide_on=1, estimate_every=2)
    )
    kernels = [video.restore(noisy(scene, rng, 3 / 255)).kernel for _ in range(3)]
    assert kernels[1] is kernels[0] and kernels[2] is not kernels[1]


def test_each_video_of_a_batch_gets_its_own_shots_in_the_summary(tmp_path):
    rng = np.random.default_rng(6)
    a, b = colour(64, 0), colour(64, 20)
    clip = [a, a, blurred(b), blurred(b)]
    jobs = []
    for name in ("one.mkv", "two.mkv"):
        with video_writer(tmp_path / name, VideoInfo(Fraction(24), 64, 64, None)) as write:
            for frame in clip:
                write(np.rint(noisy(frame, rng) * 255).astype(np.uint8))
        jobs.append(Job(tmp_path / name, tmp_path / "out" / name))
    (tmp_path / "out").mkdir()
    report = run_jobs(
        jobs,
        BlindDeconvolution(settings=ONE_ESTIMATE),
        BatchReport(),
        progress=False,
        per_video=for_video,
    )
    assert not report.failed and len(report.written) == 2
    for name in ("one.mkv", "two.mkv"):  # shots counted from the file's own first frame
        shots = [words for source, words in report.decisions if source.endswith(name)]
        assert [w.split(":")[0] for w in shots] == ["frames 1-2", "frames 3-4"], shots
        assert "no blur" in shots[0] and "camera shake" in shots[1]
        source, result = (list(read_frames(p)) for p in (tmp_path / name, tmp_path / "out" / name))
        assert len(result) == 4
        assert np.abs(result[0].astype(float) - source[0]).mean() < 3  # left alone (codec)
        assert np.abs(result[3].astype(float) - source[3]).mean() > 3  # deconvolved


def test_network_videos_still_go_in_stacks_and_report_no_shots(tmp_path):
    with video_writer(tmp_path / "clip.mkv", VideoInfo(Fraction(24), 16, 16, None)) as write:
        for k in range(3):
            write(np.full((16, 16, 3), 40 * k, np.uint8))
    calls = []

    class Stacks(Network):
        def __call__(self, rgb: np.ndarray) -> np.ndarray:
            calls.append(rgb.shape)
            return rgb

    job = Job(tmp_path / "clip.mkv", tmp_path / "out.mkv")
    report = run_jobs([job], Stacks(), BatchReport(), progress=False, batch=2, per_video=for_video)
    assert calls == [(2, 16, 16, 3), (1, 16, 16, 3)] and report.decisions == []


def test_a_fresh_state_on_one_frame_is_exactly_the_method_on_that_frame():
    rng = np.random.default_rng(7)
    for frame in (noisy(colour(64, 0), rng), noisy(blurred(colour(64, 20)), rng)):
        alone = BlindDeconvolution(settings=ONE_ESTIMATE).restore(frame)
        first = VideoDeblur(BlindDeconvolution(settings=ONE_ESTIMATE)).restore(frame)
        assert np.array_equal(first.rgb, alone.rgb) and first.note == alone.note


def test_an_animation_gets_its_own_state_too(tmp_path):
    from PIL import Image

    still = np.rint(colour(64, 0) * 255).astype(np.uint8)
    frames = [Image.fromarray(np.roll(still, 2 * k, axis=1)) for k in range(3)]  # a pan
    frames[0].save(tmp_path / "a.gif", save_all=True, append_images=frames[1:], duration=40)
    job = Job(tmp_path / "a.gif", tmp_path / "out.gif")
    report = run_jobs(
        [job],
        BlindDeconvolution(settings=ONE_ESTIMATE),
        BatchReport(),
        progress=False,
        per_video=for_video,
    )
    assert not report.failed
    assert [words.split(":")[0] for _, words in report.decisions] == ["frames 1-3"]
    assert "no blur" in report.decisions[0][1]


class Rolled(AutoDeblur):
    """auto that sees shake that varies, with a camera moving 2 px more every frame."""

    def __init__(self) -> None:
        super().__init__(network=Network)
        self.frame, self.removed = 0, []

    def examine(self, rgb: np.ndarray) -> Examination:
        self.frame += 1
        poses = np.array([[0.0, 0.0, 0.0], [2.0 * self.frame, 0.0, 0.002]])
        motion = InplaneMotion(poses, np.array([0.5, 0.5]), 0.05, 0.3)
        found = KernelEstimate(KERNEL, None, KERNEL, None, None, 1.0)
        return Examination(found, Decision(VARYING, "said varying"), None, motion, 1.0, 15)

    def remove_varying(self, rgb: np.ndarray, seen: Examination) -> tuple[np.ndarray, np.ndarray]:
        self.removed.append(seen.motion)
        return super().remove_varying(rgb, seen)


def test_shake_that_varies_blends_the_camera_motions_of_successive_frames():
    auto = Rolled()
    video = VideoDeblur(auto, VideoSettings(memory=0.5))
    out = video(np.stack([colour(64, 0)] * 3))
    assert out.shape == (3, 64, 64, 3) and np.isfinite(out).all()
    first, second, third = auto.removed
    assert len(first.poses) == 2  # the first frame's own motion
    poses = {tuple(p): w for p, w in zip(second.poses.tolist(), second.weights)}
    assert poses == pytest.approx({(0.0, 0.0, 0.0): 0.5, (2.0, 0.0, 0.002): 0.25,
                                   (4.0, 0.0, 0.002): 0.25})  # fmt: skip
    assert len(third.poses) == 4 and third.weights.sum() == pytest.approx(1.0)


def test_a_shot_removes_its_kernel_at_one_gamma_and_follows_it_there(monkeypatch):
    # the gamma each estimate keeps alternates; the shot holds its first frame's
    picks = iter([1, 0, 1, 0, 1, 0, 1, 0])
    monkeypatch.setattr(blind_module, "best_domain", lambda grays, kernels: next(picks))
    removed = []
    deconvolve = BlindDeconvolution.deconvolve

    def spy(self, rgb, kernel, gamma=None):
        removed.append(gamma)
        return deconvolve(self, rgb, kernel, gamma)

    monkeypatch.setattr(BlindDeconvolution, "deconvolve", spy)
    estimated = []
    estimate = BlindDeconvolution.estimate

    def seen(self, rgb):
        found = estimate(self, rgb)
        estimated.append((self.options.gammas, found.gamma))
        return found

    monkeypatch.setattr(BlindDeconvolution, "estimate", seen)
    rng = np.random.default_rng(3)
    clip = [noisy(blurred(colour(96, 0)), rng) for _ in range(4)]
    video = VideoDeblur(BlindDeconvolution(settings=ONE_ESTIMATE), VideoSettings(decide_on=2))
    for frame in clip:
        video.restore(frame)
    assert [s.outcome for s in video.shots] == [UNIFORM]
    assert removed == [2.2] * 4  # the first frame's gamma, on every frame
    # the voting frames choose (2.2, then 1.0: left out of the blend); the others are
    # estimated at the shot's gamma only
    assert estimated == [((1.0, 2.2), 2.2), ((1.0, 2.2), 1.0), ((2.2,), 2.2), ((2.2,), 2.2)]
