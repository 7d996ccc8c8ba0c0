"""Inference speed and memory of a generator at common sizes.

The generator is the paper's (ngf 64, 9 blocks, random weights), or with
``--weights PATH|bundled`` a checkpoint's (e.g. the bundled default model).

Each (size, variant) runs in its own process so that its peak RSS is its own.
Prints, per row: seconds per image (median of --repeats after a warm-up run),
FLOPs counted by torch.utils.flop_counter, achieved GFLOP/s, the share of this
machine's fp32 and bf16 matmul ceilings (measured in the same run), peak RSS,
and the ratio to eager fp32 at the same size.

    python benchmarks/inference.py [--sizes 256x256 1280x720 1920x1080 3840x2160] [--repeats 3]
        [--weights bundled]

Variants: ``eager-fp32`` (whole image), ``bf16`` (autocast; only on CPUs with
native bf16), ``openvino`` (fp32, the default CPU runtime; conversion not timed),
``onnxruntime`` (with --onnx), ``tiled-fp16`` (exact tiled inference storing layer outputs in
float16, 256 px tiles), ``tiled-fp32``. Sizes too large for a whole-image pass
within --max-gb are run tiled only.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from deblurgan.checkpoint import load_generator
from deblurgan.inference.deblurrer import restore, whole_image_peak_bytes
from deblurgan.inference.openvino_backend import compile_openvino, openvino_available
from deblurgan.inference.weights import default_weights_path
from deblurgan.nets import Generator, init_weights
from deblurgan.runtime import cpu_has_native_bf16


def _net(weights: str | None) -> Generator:
    if weights is None:
        return init_weights(Generator(), generator=torch.Generator().manual_seed(0)).eval()
    return load_generator(default_weights_path() if weights == "bundled" else weights)


def _one(size: str, variant: str, repeats: int, weights: str | None) -> dict:
    width, height = map(int, size.split("x"))
    net = _net(weights)
    x = torch.rand(1, 3, height, width) * 2 - 1
    kwargs = {"precision": "bf16"} if variant == "bf16" else {}
    if variant.startswith("tiled"):
        kwargs.update(
            tile=256, tile_storage=torch.float16 if variant == "tiled-fp16" else torch.float32
        )
    if variant == "openvino":
        compiled = compile_openvino(net)

        def run():
            return compiled(x.numpy())
    elif variant == "onnxruntime":
        import tempfile

        from deblurgan.inference.export import export_onnx, onnx_session

        path = export_onnx(net, tempfile.mkdtemp() + "/g.onnx")
        session = onnx_session(path)

        def run():
            return session.run(None, {"blurred": x.numpy()})
    else:

        def run():
            return restore(net, x, **kwargs)

    run()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return {
        "seconds": statistics.median(times),
        "rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
    }


def _flops(net: Generator, width: int, height: int) -> float:
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        net(torch.zeros(1, 3, height, width))
    return counter.get_total_flops()


def _ceiling(dtype: torch.dtype, n: int = 2048) -> float:
    """Best of 5 large matmuls, in GFLOP/s."""
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    a @ b
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", nargs="+", default=["256x256", "1280x720", "1920x1080", "3840x2160"]
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--max-gb", type=float, default=8.0, help="largest whole-image pass to attempt"
    )
    parser.add_argument("--onnx", action="store_true", help="also time onnxruntime (fp32)")
    parser.add_argument("--weights", help="a generator checkpoint, or 'bundled'")
    parser.add_argument("--one", nargs=2, metavar=("SIZE", "VARIANT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(_one(*args.one, args.repeats, args.weights)))
        return
    net = _net(args.weights)
    print(f"generator: {args.weights or 'paper (random weights)'}, {net.config}")
    fp32_ceiling = _ceiling(torch.float32)
    bf16_ceiling = _ceiling(torch.bfloat16) if cpu_has_native_bf16() else float("nan")
    print(f"threads {torch.get_num_threads()}; matmul ceilings: fp32 {fp32_ceiling:.0f} GFLOP/s, "
          f"bf16 {bf16_ceiling:.0f} GFLOP/s (native bf16: {cpu_has_native_bf16()})")  # fmt: skip
    print(f"| {'size':9} | {'variant':10} | s / image | TFLOP | GFLOP/s | of fp32 ceil | of bf16 ceil "
          f"| peak RSS | vs eager fp32 |")  # fmt: skip
    print(
        f"|{'-' * 11}|{'-' * 12}|-----------|-------|---------|--------------|--------------|----------|---------------|"
    )
    for size in args.sizes:
        width, height = map(int, size.split("x"))
        flops = (
            _flops(net, width, height)
            if width * height <= 1920 * 1080
            else _flops(net, width // 2, height // 2) * 4
        )
        variants = (
            ["eager-fp32"]
            if whole_image_peak_bytes(net.config["ngf"], height, width) <= args.max_gb * 2**30
            else []
        )
        variants += ["bf16"] if cpu_has_native_bf16() and variants else []
        variants += ["openvino"] if openvino_available() and "eager-fp32" in variants else []
        variants += ["onnxruntime"] if args.onnx and "eager-fp32" in variants else []
        variants += ["tiled-fp16"] if height * width >= 1280 * 720 else ["tiled-fp32"]
        baseline = None
        for variant in variants:
            repeats = args.repeats if height * width <= 1920 * 1080 else 1
            done = subprocess.run([sys.executable, __file__, "--one", size, variant, "--repeats", str(repeats)]
                                  + (["--weights", args.weights] if args.weights else []),
                                  capture_output=True, text=True)  # fmt: skip
            if done.returncode:
                print(f"| {size:9} | {variant:10} | failed: {done.stderr.strip().splitlines()[-1]}")
                continue
            r = json.loads(done.stdout.strip().splitlines()[-1])
            rate = flops / r["seconds"] / 1e9
            baseline = baseline or (r["seconds"] if variant == "eager-fp32" else None)
            ratio = f"{baseline / r['seconds']:.2f}x" if baseline else "-"
            print(
                f"| {size:9} | {variant:10} | {r['seconds']:9.2f} | {flops / 1e12:5.2f} | {rate:7.0f} | "
                f"{rate / fp32_ceiling:12.0%} | {rate / bf16_ceiling:12.0%} | {r['rss_gb']:6.2f} GB | {ratio:>13} |"
            )


if __name__ == "__main__":
    main()
