"""Flicker on short clips: every frame on its own (what ``deblur`` did before) against one
decision per shot and kernels smooth in time (:mod:`deblurgan.methods.video`), for ``l0``
and ``auto``.

Two clips made here from TRAINING material only (never Kodak24, Levin, GOPR0374 or
GOPR0477's held-out moments):

- ``shake``: two shots of sharp_corpus training photos, 320x240. Shot 1 (``--frames``
  frames): one photo under a camera-shake kernel that changes slowly in time (one random
  shake path, ``deblurgan.blur.sample_kernels``, exposed over 55% to 100% of its length
  from the first frame to the last), in linear light; shot 2 (half as many frames): another
  photo, sharp. Fresh 1/255 noise on every frame, 8-bit. Ground truth: the sharp photos.
- ``gopro``: GOPR0477's raw 240 fps frames (training) reduced to 320x180; frame ``t`` the
  average of 7 consecutive frames from ``4 t`` (real blur of a dynamic scene), its ground
  truth the centre frame.

Per clip and method it prints the flicker ratio (:func:`~deblurgan.evaluation.flicker.
flicker_ratio`: the output's frame-to-frame change over the input's within shots, the
changes into the first frame of a shot left out; 1 = none added), the worst jump
(:func:`~deblurgan.evaluation.flicker.flicker_peak`: the largest such ratio between two
frames), the
mean PSNR gain over the input (aligned within 4 px) and how many frames got which outcome,
and with ``--picture`` saves a plot of the frame-to-frame change (matplotlib). "Every frame
on its own" is a fresh :class:`~deblurgan.methods.video.VideoDeblur` per frame, which is
exactly the method's ``restore`` (tested). ``--calibrate-cuts`` prints how the shot
detector's thresholds separate frames of one shot from cuts on training material. Usage:

    nice python benchmarks/video_flicker.py [--shared ../shared] [--frames 16]
        [--methods l0 auto] [--clips shake gopro] [--memories 0 0.7]
        [--picture docs/video_flicker.png] [--calibrate-cuts]

Rows: "every frame alone", then "per shot, memory m" for each smoothing memory (0: one
decision per shot, each frame its own kernel), and for the ``shake`` clip each frame
deconvolved with its TRUE kernel (the floor: the flicker that sharpening the noise adds).

Timings are not reported (run anything timed on an idle machine).
"""

from __future__ import annotations

import argparse
import collections
from pathlib import Path

import cv2
import numpy as np

from deblurgan.blur.apply import blur_image
from deblurgan.blur.frames import average_frames
from deblurgan.blur.kernels import sample_kernels
from deblurgan.blur.psf import tight_crop
from deblurgan.evaluation.flicker import flicker_peak, flicker_ratio, frame_changes
from deblurgan.evaluation.scoring import score
from deblurgan.io.images import read_image
from deblurgan.methods import build_method
from deblurgan.methods.shots import (
    CUT_COLOURS,
    CUT_LAYOUT,
    colour_histogram,
    find_cuts,
    frame_layout,
    histogram_distance,
    layout_distance,
)
from deblurgan.methods.video import VideoDeblur, VideoSettings

SHARED = Path(__file__).resolve().parents[2] / "shared"
SIZE = (240, 320)
PHOTOS = ("urban100/img_004.webp", "bsd100/img_020.webp")  # shot 1, shot 2


def camera_noise(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    noisy = rgb + rng.normal(0.0, 1.0 / 255, rgb.shape)
    return (np.round(np.clip(noisy, 0.0, 1.0) * 255) / 255).astype(np.float32)


def fit(rgb: np.ndarray, size: tuple[int, int] = SIZE) -> np.ndarray:
    """``rgb`` (3 channels) reduced so that it covers ``size``, centre-cropped to it."""
    rgb = rgb[..., :3] if rgb.ndim == 3 else np.repeat(rgb[..., None], 3, axis=2)
    h, w = rgb.shape[:2]
    scale = max(size[0] / h, size[1] / w)
    new = (max(round(w * scale), size[1]), max(round(h * scale), size[0]))
    small = cv2.resize(rgb.astype(np.float32), new, interpolation=cv2.INTER_AREA)
    y, x = (small.shape[0] - size[0]) // 2, (small.shape[1] - size[1]) // 2
    return small[y : y + size[0], x : x + size[1]]


def shake_clip(shared: Path, frames: int, seed: int = 0) -> tuple[list, list, list]:
    """(blurred frames, sharp frames, true kernels or None) of the ``shake`` clip."""
    rng = np.random.default_rng(seed)
    corpus = shared / "data" / "sharp_corpus"
    first, second = (fit(read_image(corpus / name).rgb) for name in PHOTOS)
    exposures = tuple(float(e) for e in np.linspace(0.55, 1.0, frames))
    path = sample_kernels(1, rng, size=48, exposures=exposures, max_length=24.0).kernels[0]
    shaken = [camera_noise(blur_image(first, tight_crop(k), linear_light=True), rng) for k in path]
    still = [camera_noise(second, rng) for _ in range(max(frames // 2, 2))]
    kernels = [tight_crop(k) for k in path] + [None] * len(still)
    return shaken + still, [first] * frames + [second] * len(still), kernels


def gopro_clip(shared: Path, frames: int) -> tuple[list, list, None]:
    """(blurred frames, sharp frames, None: no true kernels) of the ``gopro`` clip."""
    raw = sorted((shared / "data" / "gopro_raw240fps" / "GOPR0477_11_00").glob("*.png"))
    reduced = [fit(read_image(p).rgb, (180, 320)) for p in raw[: 4 * frames + 6]]
    blurred = [average_frames(reduced[4 * t : 4 * t + 7]) for t in range(frames)]
    sharp = [reduced[4 * t + 3] for t in range(frames)]
    return [b.astype(np.float32) for b in blurred], sharp, None


def run(method, clip: list[np.ndarray], settings: VideoSettings | None) -> tuple[list, list]:
    """The outputs and each frame's outcome: one state for the clip with ``settings``, or
    (None) every frame alone."""
    video = VideoDeblur(method, settings)
    outputs, outcomes = [], []
    for frame in clip:
        if settings is None:
            video = VideoDeblur(method)
        outputs.append(video.restore(frame).rgb)
        outcomes.append(video.shots[-1].outcome)
    return outputs, outcomes


def gain(outputs: list, blurred: list, sharp: list) -> float:
    return float(
        np.mean(
            [
                score(o, s, align=4)["psnr"] - score(b, s, align=4)["psnr"]
                for o, b, s in zip(outputs, blurred, sharp)
            ]
        )
    )


def calibrate_cuts(shared: Path, seed: int = 0) -> None:
    """Colour and layout distances of frame pairs within one shot and across cuts."""
    rng = np.random.default_rng(seed)
    raw = sorted((shared / "data" / "gopro_raw240fps" / "GOPR0477_11_00").glob("*.png"))
    gopro = [read_image(p).rgb for p in raw]
    averages = [average_frames(gopro[i : i + 7]) for i in range(0, len(gopro) - 7, 4)]
    corpus = shared / "data" / "sharp_corpus"
    paths = sorted((corpus / "urban100").glob("*")) + sorted((corpus / "bsd100").glob("*"))
    photos = [fit(read_image(p).rgb) for p in paths]
    within: dict[str, list] = collections.defaultdict(list)
    for stride in (1, 8):
        for i in range(0, len(gopro) - stride, stride):
            within[f"GoPro frames {stride} apart"].append((gopro[i], gopro[i + stride]))
    for a, b in zip(averages[:-1], averages[1:]):
        within["GoPro 7-frame averages"].append((a, b))
    for i, a in enumerate(averages):
        within["GoPro frame and its average"].append((gopro[4 * i + 3], a))
    for photo in photos[::4]:
        kernels = sample_kernels(2, rng, size=64, max_length=40).kernels[:, -1]
        a = camera_noise(blur_image(photo, tight_crop(kernels[0]), linear_light=True), rng)
        moved = np.roll(photo, tuple(rng.integers(-12, 13, 2)), axis=(0, 1))
        b = camera_noise(blur_image(moved, tight_crop(kernels[1]), linear_light=True), rng)
        within["photo: two shakes, shifted"].append((a, b))
        within["photo: sharp and shaken"].append((photo, a))
    cuts = [(photos[i], photos[(i + 1 + int(rng.integers(0, 199))) % 200]) for i in range(200)]
    cuts += [(fit(f), photos[int(j)]) for f in gopro[::12] for j in rng.choice(200, 5, False)]

    def distances(pairs: list) -> np.ndarray:
        return np.array(
            [
                (
                    histogram_distance(colour_histogram(a), colour_histogram(b)),
                    layout_distance(frame_layout(a), frame_layout(b)),
                )
                for a, b in pairs
            ]
        )

    print("| pairs | n | colours max | layout max | cut by both thresholds |")
    print("|---|---|---|---|---|")
    everything = []
    for name, pairs in within.items():
        d = distances(pairs)
        everything.append(d)
        cut = int(np.sum((d[:, 0] > CUT_COLOURS) & (d[:, 1] > CUT_LAYOUT)))
        print(
            f"| within a shot: {name} | {len(d)} | {d[:, 0].max():.3f} | {d[:, 1].max():.3f} | {cut} |"
        )
    d = distances(cuts)
    found = int(np.sum((d[:, 0] > CUT_COLOURS) & (d[:, 1] > CUT_LAYOUT)))
    print(
        f"| cuts (min instead of max) | {len(d)} | {d[:, 0].min():.3f} | {d[:, 1].min():.3f} "
        f"| {found} |"
    )
    inside = np.concatenate(everything)
    print("\ncolours, layout: frames of one shot cut / cuts missed")
    for colours in sorted({0.15, 0.18, CUT_COLOURS, 0.22, 0.25}):
        row = []
        for layout in sorted({0.0, 0.3, 0.4, CUT_LAYOUT, 0.5}):
            false = int(np.sum((inside[:, 0] > colours) & (inside[:, 1] > layout)))
            missed = int(np.sum((d[:, 0] <= colours) | (d[:, 1] <= layout)))
            row.append(f"{layout}: {false}/{missed}")
        print(f"  {colours}: " + ", ".join(row))


def print_row(clip: str, row: tuple, blurred: list, sharp: list, cuts: list[int]) -> None:
    """One table row: flicker ratio and worst jump (within shots), mean PSNR gain and the
    outcomes' frame counts."""
    method, label, outputs, outcomes = row
    counts = ", ".join(f"{k} {v}" for k, v in collections.Counter(outcomes).items())
    print(
        f"| {clip} | {method} | {label} | {flicker_ratio(outputs, blurred, cuts):.2f} | "
        f"{flicker_peak(outputs, blurred, cuts):.1f} | {gain(outputs, blurred, sharp):+.2f} "
        f"| {counts} |",
        flush=True,
    )


def save_picture(path: Path, curves: dict[str, dict[str, np.ndarray]]) -> None:
    """One panel per clip: the frame-to-frame change of the input and of each output."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no picture")
        return
    fig, axes = plt.subplots(1, len(curves), figsize=(6 * len(curves), 3.6), squeeze=False)
    for ax, (clip, lines) in zip(axes[0], curves.items()):
        for name, values in lines.items():
            style = "k-" if name == "input" else ("--" if "every" in name else "-")
            style = ":" if "reference" in name else style
            ax.plot(np.arange(2, len(values) + 2), values, style, label=name, linewidth=1.4)
        ax.set_yscale("log")
        ax.set_title(f"{clip} clip")
        ax.set_xlabel("frame")
        ax.set_ylabel("mean |frame - previous frame|")
        ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    print(f"picture: {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=SHARED)
    parser.add_argument("--frames", type=int, default=16, help="frames of each clip's shot 1")
    parser.add_argument("--methods", nargs="+", default=["l0", "auto"])
    parser.add_argument("--clips", nargs="+", default=["shake", "gopro"])
    parser.add_argument(
        "--memories",
        nargs="+",
        type=float,
        default=[0.0, VideoSettings().memory],
        help="one per-shot row per smoothing memory (0: each frame's own kernel)",
    )
    parser.add_argument("--picture", type=Path, help="save the per-frame change plot here")
    parser.add_argument("--calibrate-cuts", action="store_true")
    args = parser.parse_args()
    if args.calibrate_cuts:
        calibrate_cuts(args.shared)
        return
    makers = {"shake": shake_clip, "gopro": gopro_clip}
    curves: dict[str, dict[str, np.ndarray]] = {}
    print(
        "| clip | method | processing | flicker ratio | worst jump | PSNR gain (dB) "
        "| outcomes (frames) |"
    )
    print("|---|---|---|---|---|---|---|")
    for clip_name in args.clips:
        blurred, sharp, kernels = makers[clip_name](args.shared, args.frames)
        cuts = find_cuts(blurred)
        print(f"| {clip_name} | | shots found | | | | first frames {[0, *cuts]} |")
        curves[clip_name] = {"input": frame_changes(blurred)}
        processing = {"every frame alone": None}
        for memory in args.memories:
            processing[f"per shot, memory {memory:g}"] = VideoSettings(memory=memory)
        rows = []
        if kernels is not None:  # the floor: each frame deconvolved with its true kernel
            l0 = build_method("l0")
            outputs = [f if k is None else l0.deconvolve(f, k) for f, k in zip(blurred, kernels)]
            said = ["none" if k is None else "uniform" for k in kernels]
            rows.append(("true kernels", "reference", outputs, said))
            print_row(clip_name, rows[-1], blurred, sharp, cuts)
        for method_name in args.methods:
            method = build_method(method_name)
            for label, settings in processing.items():
                rows.append((method_name, label, *run(method, blurred, settings)))
                print_row(clip_name, rows[-1], blurred, sharp, cuts)
        default = f"per shot, memory {VideoSettings().memory:g}"
        for method_name, label, outputs, _ in rows:
            if label in ("reference", "every frame alone", default):
                curves[clip_name][f"{method_name}, {label}"] = frame_changes(outputs)
    if args.picture is not None:
        save_picture(args.picture, curves)


if __name__ == "__main__":
    main()
