"""Build a paired blurred/sharp dataset from sharp images (random blur) or high-fps frames."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

from deblurgan.blur.frames import FrameAveraging
from deblurgan.blur.trajectory import PRESETS
from deblurgan.cli.options import int_range
from deblurgan.data.pairs import collect_inputs
from deblurgan.data.recipe import BLUR_MODES, BlurSettings, KernelBlur
from deblurgan.data.synthesize import synthesize_frame_pairs, synthesize_pairs
from deblurgan.io.atomic import status_leaving_no_empty_folder
from deblurgan.io.media import is_image
from deblurgan.schema import ConfigError, apply_overrides, from_dict


def _fractions(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError as err:
        raise argparse.ArgumentTypeError(
            f"expected fractions like 0.1,0.5,1, got {text!r}"
        ) from err
    if not all(0 < v <= 1 for v in values):
        raise argparse.ArgumentTypeError(f"exposure fractions must be in (0, 1], got {text!r}")
    return values


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``deblurgan synth`` options to ``parser``."""
    parser.add_argument(
        "sharp",
        nargs="?",
        type=Path,
        metavar="SHARP_DIR",
        help="folder of sharp images to blur with random kernels",
    )
    parser.add_argument(
        "--frames",
        type=Path,
        metavar="FRAMES",
        help="instead: a folder of consecutive high-fps frames, or a video file",
    )
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        type=Path,
        metavar="OUT",
        help="dataset root: OUT/blur, OUT/sharp, OUT/kernels, OUT/manifest.jsonl",
    )
    parser.add_argument("--seed", type=int, default=0, help="base seed (default 0)")
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="make every pair again where OUT holds pairs made with other settings (a re-run "
        "with the same settings skips finished pairs; with others it is refused), and remove "
        "the pairs of OUT's manifest that this run does not make",
    )
    blur = parser.add_argument_group(
        "blur settings: the same as training's data.blur (random blur of SHARP_DIR, "
        "averaging of --frames)"
    )
    blur.add_argument("--per-image", type=int, default=1, metavar="K", help="pairs per image")
    blur.add_argument(
        "--mode",
        choices=(*BLUR_MODES, "mixed"),
        default=None,
        help="kernel: one camera-shake kernel per image (the paper's); scene: dynamic-scene "
        "blur, sub-frames along a camera path with moving objects, averaged like GoPro "
        "frames; mixed: the weights of --blur-config (default: kernel)",
    )
    blur.add_argument(
        "--blur-config",
        type=Path,
        metavar="YAML",
        help="blur settings (keys as training's data.blur: weights.*, kernel.*, scene.*, "
        "effects.*, averaging.*)",
    )
    blur.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one blur setting, e.g. scene.still_fraction=0.2, or scene.frames=7:13 "
        "(two values, also [7,13]) (repeatable)",
    )
    kernel = parser.add_argument_group("kernel mode shortcuts (kernel.*)")
    d = KernelBlur()  # the shortcuts' defaults are the schema's
    kernel.add_argument(
        "--preset", choices=sorted(PRESETS), help=f"trajectory parameters (default: {d.preset})"
    )
    kernel.add_argument(
        "--kernel-size", type=int, help=f"kernel canvas side (default: {d.kernel_size})"
    )
    kernel.add_argument(
        "--exposures",
        type=_fractions,
        help="exposure fractions to draw from, e.g. 0.1,0.5,1 (default: "
        f"{','.join(map(str, d.exposures))})",
    )
    kernel.add_argument("--linear-light", action="store_true", help="blur in linear light")
    kernel.add_argument(
        "--noise-std", type=float, help=f"Gaussian noise std in [0, 1] (default: {d.noise_std})"
    )
    kernel.add_argument(
        "--poisson-peak",
        type=float,
        help="shot noise: photons at white, smaller is noisier (default: none)",
    )
    blur.add_argument("-r", "--recursive", action="store_true", help="descend into sub-folders")
    frames = parser.add_argument_group("frame averaging shortcuts (--frames, averaging.*)")
    a = FrameAveraging()
    frames.add_argument(
        "--n-avg",
        type=int_range,
        metavar="LOW:HIGH",
        help=f"frames averaged per pair, drawn per pair (default: {a.n_avg[0]}:{a.n_avg[1]})",
    )
    frames.add_argument("--gap", type=int, help=f"frames skipped between pairs (default: {a.gap})")
    frames.add_argument("--gamma", type=float, help=f"display gamma (default: {a.gamma})")
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress bar, and the summary only if something failed",
    )


def run(args: argparse.Namespace) -> int:
    """Run ``deblurgan synth`` with parsed ``args``; returns the exit status.

    A run that fails removes the output folder it created if it is still empty.
    """
    return status_leaving_no_empty_folder(args.output, lambda: _synthesize(args))


def _synthesize(args: argparse.Namespace) -> int:
    if (args.sharp is None) == (args.frames is None):
        print("deblurgan synth: error: give either SHARP_DIR or --frames", file=sys.stderr)
        return 2
    try:
        if args.frames is not None:
            report = synthesize_frame_pairs(
                args.frames,
                args.output,
                blur_settings(args).averaging,
                args.seed,
                progress=not args.quiet,
                overwrite=args.overwrite,
            )
        else:
            if not args.sharp.is_dir():
                raise ValueError(f"{args.sharp}: no such folder")
            inputs, _ = collect_inputs([str(args.sharp)], args.recursive)
            images = [(p, n) for p, n in inputs if is_image(p)]
            if not images:
                raise ValueError(f"{args.sharp}: no images found")
            report = synthesize_pairs(
                images,
                args.output,
                blur_settings(args),
                args.per_image,
                args.seed,
                progress=not args.quiet,
                overwrite=args.overwrite,
            )
    except ValueError as err:
        print(f"deblurgan synth: error: {err}", file=sys.stderr)
        return 2
    return report.finish(args.quiet)


def blur_settings(args: argparse.Namespace) -> BlurSettings:
    """The one blur schema from ``--blur-config``, ``--mode``, the shortcuts and ``--set``.

    Raises:
        ConfigError: The file cannot be read, or a key or value is wrong.
    """
    raw: dict[str, Any] = {}
    if args.blur_config is not None:
        try:
            raw = yaml.safe_load(args.blur_config.read_text()) or {}
        except (OSError, yaml.YAMLError) as err:
            raise ConfigError(f"cannot read blur config {args.blur_config}: {err}") from err
    if args.mode in BLUR_MODES:
        for old_name in BlurSettings.renamed_keys:  # kernel_weight, scene_weight: weights.*
            raw.pop(old_name, None)
        raw["weights"] = {name: float(name == args.mode) for name in BLUR_MODES}
    _set_shortcuts(
        raw,
        "averaging",
        {"n_avg": args.n_avg and list(args.n_avg), "gap": args.gap, "gamma": args.gamma},
    )
    shortcuts = {
        "preset": args.preset,
        "kernel_size": args.kernel_size,
        "exposures": args.exposures and list(args.exposures),
        "linear_light": args.linear_light or None,
        "noise_std": args.noise_std,
        "poisson_peak": args.poisson_peak,
    }
    _set_shortcuts(raw, "kernel", shortcuts)
    return from_dict(BlurSettings, apply_overrides(raw, args.set, BlurSettings))


def _set_shortcuts(raw: dict[str, Any], section: str, values: dict[str, Any]) -> None:
    """Put the given (not None) shortcut ``values`` into ``raw[section]``."""
    given = {k: v for k, v in values.items() if v is not None}
    if not given:
        return
    node = raw.setdefault(section, {})
    if not isinstance(node, dict):
        raise ConfigError(f"{section}: expected a mapping")
    node.update(given)
