"""Throughput of folder deblurring: overlapped reading/writing (run_jobs) vs one file at a time.

Writes --count PNG images of --size (the bundled example photo, resized, with a
little noise so the PNG encoder has real work), then deblurs the folder twice
with the same Deblurrer: once with a plain read -> deblur -> write loop, once
with :func:`deblurgan.inference.batch.run_jobs` (reading ahead and writing
behind in threads). Prints seconds per file and the ratio.

    python benchmarks/batch_throughput.py [--count 8] [--size 1280x720] [--weights bundled]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from deblurgan import Deblurrer
from deblurgan.data.pairs import collect_inputs
from deblurgan.inference.batch import plan_jobs, run_jobs
from deblurgan.io.images import read_image, write_image

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "blurry_coffee.jpg"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=8)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--weights", default=None, help="checkpoint (default: bundled model)")
    parser.add_argument("--backend", default="auto")
    args = parser.parse_args()
    width, height = map(int, args.size.split("x"))
    deblur = Deblurrer.from_checkpoint(args.weights, backend=args.backend, precision="fp32")
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as root:
        source = Path(root, "in")
        source.mkdir()
        base = np.asarray(Image.open(EXAMPLE).convert("RGB").resize((width, height)), np.float32)
        for i in range(args.count):
            noisy = np.clip(base + rng.normal(0, 3, base.shape), 0, 255).astype(np.uint8)
            Image.fromarray(noisy).save(source / f"{i:03d}.png")
        deblur(read_image(source / "000.png").rgb)  # warm-up (and model conversion)

        start = time.perf_counter()
        for path in sorted(source.iterdir()):
            image = read_image(path)
            write_image(Path(root, "plain", path.name), image.with_rgb(deblur(image.rgb)))
        plain = (time.perf_counter() - start) / args.count

        start = time.perf_counter()
        inputs, _ = collect_inputs([str(source)])
        jobs, report = plan_jobs(inputs, Path(root, "overlapped"), "", None)
        run_jobs(jobs, deblur, report, progress=False)
        overlapped = (time.perf_counter() - start) / args.count
        assert len(report.written) == args.count, report.failed

        start = time.perf_counter()
        for path in sorted(source.iterdir()):
            image = read_image(path)
            write_image(Path(root, "io-only", path.name), image)
        io_only = (time.perf_counter() - start) / args.count

    print(f"{args.count} x {args.size} PNG, backend {deblur.backend}")
    print("| loop | s / file | vs plain |")
    print("|---|---|---|")
    print(f"| read + write only (no network) | {io_only:.3f} | - |")
    print(f"| plain: read, deblur, write | {plain:.3f} | 1.00x |")
    print(f"| run_jobs: read ahead, write behind | {overlapped:.3f} | {plain / overlapped:.2f}x |")


if __name__ == "__main__":
    main()
