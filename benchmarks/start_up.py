"""Start-up and end-to-end speed of ``deblurgan deblur``: the defaults against eager fp32.

Every figure is the wall time of a fresh process, as a user runs the command (run it on an
otherwise idle machine):

- ``deblurgan --help`` and ``deblurgan deblur --help``;
- time to first output: ``deblurgan deblur`` on one frame, defaults, warm cache;
- the defaults against plain eager PyTorch (``--backend torch --precision fp32``) on N frames,
  PNG in and out, rounds alternating the two commands; the median of the rounds;
- whether the default run imported PyTorch (``python -X importtime``).

The model cache is a temporary folder, warmed by one untimed default run (the conversion, and
the quantisation where the CPU picks int8), so the user's own cache is neither used nor changed.

    python benchmarks/start_up.py [--frames DIR] [--counts 3 30] [--rounds 3] [--weights PATH]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
GOPRO_FRAMES = REPO.parent / "shared" / "data" / "gopro_raw240fps" / "GOPR0477_11_00"
EXAMPLE = REPO / "examples" / "blurry_coffee.jpg"


def _frames(folder: Path | None, count: int, root: Path) -> Path:
    """A folder of ``count`` 1280x720 PNG frames: from ``folder`` (GoPro frames by default),
    or made from the example photo with a little noise where that is missing."""
    out = root / f"frames{count}"
    out.mkdir()
    source = (
        sorted((folder or GOPRO_FRAMES).glob("*.png")) if (folder or GOPRO_FRAMES).is_dir() else []
    )
    rng = np.random.default_rng(0)
    for i in range(count):
        if i < len(source):
            shutil.copy(source[i], out / f"{i:03d}.png")
            continue
        base = np.asarray(Image.open(EXAMPLE).convert("RGB").resize((1280, 720)), np.float32)
        noisy = np.clip(base + rng.normal(0, 3, base.shape), 0, 255).astype(np.uint8)
        Image.fromarray(noisy).save(out / f"{i:03d}.png")
    return out


def _seconds(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=Path, default=None, help="folder of 720p PNG frames")
    parser.add_argument("--counts", type=int, nargs="+", default=[3, 30])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--weights", default=None, help="checkpoint (default: bundled model)")
    args = parser.parse_args()
    cli = [sys.executable, "-m", "deblurgan"]
    weights = ["--weights", args.weights] if args.weights else []
    eager = ["--backend", "torch", "--precision", "fp32"]
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        env = {**os.environ, "DEBLURGAN_CACHE": str(root / "cache")}
        frames = {n: _frames(args.frames, n, root) for n in sorted({1, *args.counts})}

        def deblur(n: int, options: list[str], name: str) -> list[str]:
            out = root / "out" / name
            shutil.rmtree(out, ignore_errors=True)
            return [*cli, "deblur", str(frames[n]), "-o", str(out), "-q", *weights, *options]

        _seconds(deblur(1, [], "warm-up"), env)  # converts (and quantises) into the cache
        trace = subprocess.run(
            [sys.executable, "-X", "importtime", *deblur(1, [], "trace")[1:]],
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        torch_loaded = any(
            line.rsplit("|", 1)[-1].strip() == "torch" for line in trace.stderr.splitlines()
        )
        rows = []
        for name, argv in [("deblurgan --help", [*cli, "--help"]),
                           ("deblurgan deblur --help", [*cli, "deblur", "--help"])]:  # fmt: skip
            rows.append((name, min(_seconds(argv, env) for _ in range(5))))
        rows.append(
            ("1 frame, defaults (time to first output)",
             statistics.median(_seconds(deblur(1, [], "one"), env) for _ in range(args.rounds)))
        )  # fmt: skip
        ratios = []
        for n in args.counts:
            times: dict[str, list[float]] = {"defaults": [], "eager fp32": []}
            for _ in range(args.rounds):  # alternating, so drift hits both alike
                times["defaults"].append(_seconds(deblur(n, [], "default"), env))
                times["eager fp32"].append(_seconds(deblur(n, eager, "eager"), env))
            medians = {key: statistics.median(value) for key, value in times.items()}
            for key, value in medians.items():
                rows.append((f"{n} frames, {key}", value, value / n))
            ratios.append((n, medians["eager fp32"] / medians["defaults"]))

    print(f"\nPyTorch imported by the default (cached) run: {torch_loaded}\n")
    print("| command | seconds | per frame |\n|---|---|---|")
    for row in rows:
        per_frame = f"{row[2]:.2f}" if len(row) > 2 else ""
        print(f"| {row[0]} | {row[1]:.2f} | {per_frame} |")
    print()
    for n, ratio in ratios:
        print(f"{n} frames: defaults are {ratio:.2f}x eager fp32 end to end")


if __name__ == "__main__":
    main()
