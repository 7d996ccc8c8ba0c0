"""Speed and peak memory of blind deconvolution (``--method l0``) on 2 CPU cores: a 720p
photo and a 12 MP photo, kernel estimate and deconvolution timed apart, each size in a fresh
process (so its peak resident memory is its own); and for ``--method auto`` at 720p, what its
decision costs beyond the kernel estimate and each outcome's deblurring (one kernel, kernels
that vary, the network). Inputs are made here: a sharp photo (scikit-image's astronaut,
resized) blurred by a camera-shake kernel from this package's synthesis. Last, the kernel
step per kernel side, with its conjugate gradients compiled (the correlation summed
directly) and through FFTs, one thread, where ``DIRECT_MAX`` chooses between them. Usage:

    python benchmarks/blind_speed.py [--repeats 2] [--only-kernel-step]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

SIZES = {"720p": (720, 1280), "12 MP": (3000, 4000)}


def measure(height: int, width: int, repeats: int) -> dict:
    """Seconds of each stage (best of ``repeats``) and the process's peak memory."""
    import resource
    import time

    import cv2
    import numpy as np
    from skimage import data

    from deblurgan.blur.apply import blur_image
    from deblurgan.blur.kernels import sample_kernels
    from deblurgan.deconv.blind import BlindDeconvolution

    sharp = cv2.resize(data.astronaut(), (width, height), interpolation=cv2.INTER_CUBIC)
    rng = np.random.default_rng(0)
    length = 0.012 * max(height, width)
    kernel = sample_kernels(1, rng, size=int(length + 9) | 1, max_length=length).kernels[0, -1]
    blurred = np.clip(blur_image(sharp.astype(np.float32) / 255, kernel), 0, 1)
    method = BlindDeconvolution()
    method.restore(np.ascontiguousarray(blurred[:256, :256]))  # compile the stencils once
    best = {"estimate": np.inf, "deconvolve": np.inf}
    for _ in range(repeats):
        start = time.perf_counter()
        found = method.estimate(blurred)
        middle = time.perf_counter()
        method.deconvolve(blurred, found.kernel, found.gamma)
        end = time.perf_counter()
        best = {
            "estimate": min(best["estimate"], middle - start),
            "deconvolve": min(best["deconvolve"], end - middle),
        }
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
    return {
        **best,
        "total": best["estimate"] + best["deconvolve"],
        "peak_gib": peak,
        "kernel": int(found.kernel.shape[0]),
        "true_kernel": int(kernel.shape[0]),
    }


def measure_auto(height: int, width: int, repeats: int) -> dict:
    """Seconds of ``auto``'s stages on one photo: the kernel estimate, the rest of the
    decision (local kernels and the motion fit; fastest and slowest of ``repeats``), and
    each outcome's deblurring."""
    import time

    import cv2
    import numpy as np
    from skimage import data

    from deblurgan.blur.apply import blur_image
    from deblurgan.blur.kernels import sample_kernels
    from deblurgan.methods import MethodOptions, build_method
    from deblurgan.methods.auto import AutoDeblur

    sharp = cv2.resize(data.astronaut(), (width, height), interpolation=cv2.INTER_CUBIC)
    length = 0.012 * max(height, width)
    rng = np.random.default_rng(0)
    kernel = sample_kernels(1, rng, size=int(length + 9) | 1, max_length=length).kernels[0, -1]
    blurred = np.clip(blur_image(sharp.astype(np.float32) / 255, kernel), 0, 1)
    auto = AutoDeblur(lambda: build_method("network", MethodOptions()))
    auto.network().restore(blurred[:64, :64])  # load (and convert) the model first
    auto.restore(np.ascontiguousarray(blurred[:256, :256]))  # compile the stencils once
    clock = time.perf_counter
    t0 = clock()
    found = auto.blind.estimate(blurred)
    t1 = clock()
    # The decision timed on its own: examine() is handed the estimate just made (timing it
    # as examine() minus a second estimate would add the estimate's own swing, +-0.4 s).
    auto.blind.estimate = lambda rgb: found
    decisions = []
    for _ in range(repeats):
        start = clock()
        seen = auto.examine(blurred)
        decisions.append(clock() - start)
    t2 = clock()
    auto.blind.deconvolve(blurred, found.kernel, found.gamma)
    t3 = clock()
    auto.remove_varying(blurred, seen)
    t4 = clock()
    auto.network().restore(blurred)
    t5 = clock()
    return {
        "estimate": t1 - t0,
        "decision": min(decisions),
        "decision_max": max(decisions),
        "uniform": t3 - t2,
        "varying": t4 - t3,
        "network": t5 - t4,
        "chosen": seen.decision.outcome,
    }


def measure_kernel_step(sides: tuple[int, ...] = (9, 13, 21, 29, 33, 45, 65)) -> list[dict]:
    """Milliseconds of one kernel step (best of 5, one thread) on a 240 px window at each
    kernel side, the conjugate gradients compiled and through FFTs."""
    import time

    import cv2
    import numpy as np
    from skimage import data

    from deblurgan.deconv import kernel_step as module
    from deblurgan.deconv.fourier import gradients, periodic_extension
    from deblurgan.deconv.threads import thread_budget

    gray = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2GRAY)[100:340, 100:340]
    gray = gray.astype(np.float32) / 255
    shifted = np.roll(gray, (2, 3), axis=(0, 1))  # any second image: only the time counts
    rows = []
    for side in sides:
        latent, blurred = (gradients(periodic_extension(x, side)[0]) for x in (gray, shifted))
        row = {"side": side}
        for name, direct_max in (("compiled", side), ("ffts", 0)):
            original, module.DIRECT_MAX = module.DIRECT_MAX, direct_max
            best = np.inf
            try:
                with thread_budget(1):
                    for _ in range(5):
                        start = time.perf_counter()
                        module.kernel_step(latent, blurred, side, 5e-3, sparsity=3e-3)
                        best = min(best, time.perf_counter() - start)
            finally:
                module.DIRECT_MAX = original
            row[name] = 1000 * best
        row["chosen"] = "compiled" if side <= module.DIRECT_MAX else "ffts"
        rows.append(row)
    return rows


def print_kernel_step() -> None:
    """The kernel step's table."""
    print(f"\n{'kernel side':>11}{'compiled ms':>13}{'via FFTs ms':>13}  chosen")
    for row in measure_kernel_step():
        print(f"{row['side']:>11}{row['compiled']:13.2f}{row['ffts']:13.2f}  {row['chosen']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--one", nargs=2, type=int, help=argparse.SUPPRESS)  # child process
    parser.add_argument("--auto", action="store_true", help=argparse.SUPPRESS)  # child process
    parser.add_argument("--only-kernel-step", action="store_true", help="just the last table")
    args = parser.parse_args()
    if args.only_kernel_step:
        print_kernel_step()
        return
    if args.one and args.auto:
        print(json.dumps(measure_auto(*args.one, args.repeats)))
        return
    if args.one:
        print(json.dumps(measure(*args.one, args.repeats)))
        return
    print(
        f"{'image':8}{'kernel px':>10}{'estimate s':>12}{'deconvolve s':>14}{'total s':>9}"
        f"{'peak GiB':>10}"
    )
    for name, (height, width) in SIZES.items():
        command = [
            sys.executable,
            __file__,
            "--one",
            str(height),
            str(width),
            "--repeats",
            str(args.repeats),
        ]
        row = json.loads(
            subprocess.run(command, capture_output=True, text=True, check=True).stdout.splitlines()[
                -1
            ]
        )
        print(
            f"{name:8}{row['kernel']:>10}{row['estimate']:12.2f}{row['deconvolve']:14.2f}"
            f"{row['total']:9.2f}{row['peak_gib']:10.2f}"
        )
    command = [
        sys.executable,
        __file__,
        "--one",
        "720",
        "1280",
        "--auto",
        "--repeats",
        str(args.repeats),
    ]
    row = json.loads(
        subprocess.run(command, capture_output=True, text=True, check=True).stdout.splitlines()[-1]
    )
    print(
        f"\nauto, 720p: kernel estimate {row['estimate']:.2f} s, the rest of the decision "
        f"{row['decision']:.2f}-{row['decision_max']:.2f} s (chose {row['chosen']}); "
        f"then one kernel {row['uniform']:.2f} s, "
        f"kernels that vary {row['varying']:.2f} s, the network {row['network']:.2f} s"
    )
    print_kernel_step()


if __name__ == "__main__":
    main()
