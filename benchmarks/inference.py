"""Inference speed, memory and output agreement of a generator at common sizes.

The generator is the paper's (ngf 64, 9 blocks, random weights), or with
``--weights PATH|bundled`` a checkpoint's (e.g. the bundled default model). The
input is a real photo (``--image``, default the bundled example) resized to each size.

Each (size, variant) runs in its own process so that its peak memory is its own.
Prints, per row: seconds per image (median of --repeats after a warm-up run),
setup seconds (conversion or compilation plus the first call), FLOPs counted by
torch.utils.flop_counter, achieved GFLOP/s, the share of this machine's fp32 and
bf16 matmul ceilings (measured in the same run), peak memory (CPU: RSS; CUDA:
allocated), PSNR of the 8-bit output against eager fp32's, and the ratio to eager
fp32 at the same size.

    python benchmarks/inference.py [--sizes 256x256 1280x720 1920x1080 3840x2160] [--repeats 3]
        [--weights bundled] [--onnx] [--compile] [--device cpu|cuda]

CPU variants: ``eager-fp32`` (whole image), ``default`` (what ``deblurgan deblur`` runs
with no options: :class:`deblurgan.Deblurrer`'s defaults, precision ``auto`` included),
``bf16`` (autocast; only on CPUs with native bf16), ``openvino`` (fp32) and
``openvino-bf16`` (native bf16 only), ``openvino-int8`` (NNCF, when installed),
``onnxruntime`` (with --onnx), ``compile-fp32`` (torch.compile, with --compile),
``tiled-fp16`` (exact tiled inference storing layer outputs in float16, 256 px tiles),
``tiled-fp32``. Sizes too large for a whole-image pass within --max-gb are run tiled only.
CUDA variants (cudnn.benchmark on): ``eager-fp32`` (the network as it is), ``default``,
``fp32``, ``fp16``, ``bf16`` (autocast), ``compile-fp16`` (with --compile: torch.compile in
``max-autotune-no-cudagraphs`` mode under fp16 autocast) and ``batch8-fp16`` (8 copies of
the frame in one batch; seconds per frame). "setup s" includes OpenVINO conversion and
quantisation (into an empty cache), compilation and the first call.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.flop_counter import FlopCounterMode

from deblurgan.checkpoint import load_generator
from deblurgan.hardware import cpu_has_native_bf16
from deblurgan.inference.backends import exported_forward
from deblurgan.inference.deblurrer import Deblurrer, restore
from deblurgan.inference.policy import BACKENDS, whole_image_peak_bytes
from deblurgan.inference.weights import default_weights_path
from deblurgan.metrics import psnr
from deblurgan.nets import Generator, init_weights
from deblurgan.nets.tensors import rgb_to_tensor, tensor_to_rgb

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "blurry_coffee.jpg"


def _net(weights: str | None) -> Generator:
    if weights is None:
        return init_weights(Generator(), generator=torch.Generator().manual_seed(0)).eval()
    return load_generator(default_weights_path() if weights == "bundled" else weights)


def _photo(path: str, width: int, height: int) -> torch.Tensor:
    rgb = Image.open(path).convert("RGB").resize((width, height), Image.Resampling.LANCZOS)
    return rgb_to_tensor(np.asarray(rgb, np.float32) / 255)


def _runner(net: Generator, x: torch.Tensor, variant: str) -> tuple[Callable[[], object], int]:
    """A function computing ``net``'s output for ``x`` the way ``variant`` does, and the
    number of frames each call computes."""
    if variant == "eager-fp32":  # the plain reference: the network itself, fp32, NCHW

        def plain() -> torch.Tensor:
            with torch.inference_mode():
                return net(x)

        return plain, 1
    if variant == "default":
        deblur = Deblurrer(net, device=x.device)
        print(f"default: {deblur.backend} {deblur.precision}", file=sys.stderr)
        return lambda: deblur.restore_tensor(x), 1
    if variant.startswith("compile"):  # compile-fp32 (CPU), compile-fp16 (CUDA)
        deblur = Deblurrer(net, x.device, variant.removeprefix("compile-"), compile=True)
        return lambda: deblur.restore_tensor(x), 1
    if variant == "batch8-fp16":
        batch = x.expand(8, -1, -1, -1).contiguous()
        return lambda: restore(net, batch, precision="fp16"), 8
    if variant.startswith(("openvino", "onnxruntime")):
        backend, _, precision = variant.partition("-")
        forward = exported_forward(backend, net, precision or "fp32")
        return lambda: forward(x), 1
    if variant.startswith("tiled"):
        storage = torch.float16 if variant == "tiled-fp16" else torch.float32
        return lambda: restore(net, x, tile=256, tile_storage=storage), 1
    # "bf16" on the CPU; "fp32", "fp16", "bf16" on CUDA, as Deblurrer runs them
    return lambda: restore(net, x, precision=variant), 1


def _one(args: argparse.Namespace, size: str, variant: str, output: str) -> dict:
    width, height = map(int, size.split("x"))
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    net = _net(args.weights).to(device)
    x = _photo(args.image, width, height).to(device)
    sync = torch.cuda.synchronize if device.type == "cuda" else lambda: None
    start = time.perf_counter()
    run, frames = _runner(net, x, variant)
    result = run()  # warm-up: conversion, compilation, cudnn autotuning
    sync()
    setup = time.perf_counter() - start
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        run()
        sync()
        times.append((time.perf_counter() - start) / frames)
    np.save(output, tensor_to_rgb(result[:1].cpu()))
    peak = torch.cuda.max_memory_allocated(device) if device.type == "cuda" else _peak_rss()
    return {
        "seconds": statistics.median(times),
        "setup": setup,
        "peak_gb": peak / 2**30,
    }


def _peak_rss() -> int:
    """This process's peak resident memory in bytes. Linux's ``ru_maxrss`` would not do: it
    carries the parent's peak over across fork + exec, so every row would report at least
    the parent's (which ran the network to count FLOPs)."""
    try:
        with open("/proc/self/status") as status:
            return next(
                int(line.split()[1]) * 2**10 for line in status if line.startswith("VmHWM:")
            )
    except (OSError, StopIteration):  # not Linux: macOS reports bytes, BSDs KiB
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return rss if sys.platform == "darwin" else rss * 2**10


def _flops(net: Generator, width: int, height: int) -> float:
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        net(torch.zeros(1, 3, height, width))
    return counter.get_total_flops()


def _ceiling(dtype: torch.dtype, device: torch.device, n: int) -> float:
    """Best of 5 ``n x n`` matmuls, in GFLOP/s."""
    a, b = (torch.randn(n, n, dtype=dtype, device=device) for _ in range(2))
    sync = torch.cuda.synchronize if device.type == "cuda" else lambda: None
    a @ b
    best = float("inf")
    for _ in range(5):
        sync()
        start = time.perf_counter()
        a @ b
        sync()
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9


def _variants(args: argparse.Namespace, whole_fits: bool, pixels: int) -> list[str]:
    if args.device.startswith("cuda"):
        cuda = ["eager-fp32", "default", "fp32", "fp16", "bf16", "batch8-fp16"]
        return (cuda + ["compile-fp16"] * args.compile) if whole_fits else []
    bf16 = ["bf16"] if cpu_has_native_bf16() else []  # ~100x slower than fp32 otherwise
    whole = ["eager-fp32", "default", *bf16]
    if BACKENDS["openvino"].available():
        int8 = ["int8"] if importlib.util.find_spec("nncf") else []
        whole += ["openvino", *(f"openvino-{p}" for p in bf16 + int8)]
    whole += ["onnxruntime"] if args.onnx else []
    whole += ["compile-fp32"] if args.compile else []
    tiled = ["tiled-fp16"] if pixels >= 1280 * 720 else ["tiled-fp32"]
    return (whole if whole_fits else []) + tiled


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
    parser.add_argument("--compile", action="store_true", help="also time torch.compile")
    parser.add_argument("--weights", help="a generator checkpoint, or 'bundled'")
    parser.add_argument("--image", default=str(EXAMPLE), help="photo resized to each size")
    parser.add_argument("--device", default="cpu", help="cpu or cuda[:N]")
    parser.add_argument(
        "--one", nargs=3, metavar=("SIZE", "VARIANT", "OUT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.one:
        print(json.dumps(_one(args, *args.one)))
        return
    net = _net(args.weights)
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    if cuda and not torch.cuda.is_available():
        parser.error("--device cuda: CUDA is not available on this machine")
    native = cuda or cpu_has_native_bf16()
    fp32_ceiling = _ceiling(torch.float32, device, 8192 if cuda else 2048)
    # Without native bf16 a bf16 matmul runs at ~1 GFLOP/s here: measure it small.
    bf16_ceiling = _ceiling(torch.bfloat16, device, 8192 if cuda else 2048 if native else 512)
    print(
        f"generator: {args.weights or 'paper (random weights)'}, {net.config}; image {args.image}"
    )
    print(
        f"device {device}, threads {torch.get_num_threads()}; matmul ceilings: fp32 "
        f"{fp32_ceiling:.0f} GFLOP/s, bf16 {bf16_ceiling:.0f} GFLOP/s (native bf16: {native})"
    )
    print(
        "| size      | variant       | s / image | setup s | TFLOP | GFLOP/s | of fp32 ceil "
        "| of bf16 ceil | peak mem | PSNR vs eager | vs eager fp32 |"
    )
    print("|" + "|".join("-" * n for n in (11, 15, 11, 9, 7, 9, 14, 14, 10, 15, 15)) + "|")
    folder = tempfile.mkdtemp()
    # A fresh OpenVINO cache, so that "setup s" includes converting the model.
    env = {**os.environ, "DEBLURGAN_CACHE": f"{folder}/cache"}
    notes = set()
    for size in args.sizes:
        width, height = map(int, size.split("x"))
        large = width * height > 1920 * 1080
        flops = _flops(net, width // 2, height // 2) * 4 if large else _flops(net, width, height)
        fits = whole_image_peak_bytes(net.config["ngf"], height, width) <= args.max_gb * 2**30
        baseline = reference = None
        for variant in _variants(args, fits, width * height):
            output = f"{folder}/{size}-{variant}.npy"
            done = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--one",
                    size,
                    variant,
                    output,
                    "--repeats",
                    str(1 if large else args.repeats),
                    "--image",
                    args.image,
                    "--device",
                    args.device,
                ]
                + (["--weights", args.weights] if args.weights else []),
                capture_output=True,
                text=True,
                env=env,
            )
            if done.returncode:
                print(f"| {size:9} | {variant:13} | failed: {done.stderr.strip().splitlines()[-1]}")
                continue
            r = json.loads(done.stdout.strip().splitlines()[-1])
            if variant == "default":
                chosen = next(line for line in done.stderr.splitlines() if "default:" in line)
                notes.add(f"{size}: {chosen} (Deblurrer's defaults)")
            rate = flops / r["seconds"] / 1e9
            if variant == "eager-fp32":
                baseline, reference = r["seconds"], np.load(output)
            ratio = f"{baseline / r['seconds']:.2f}x" if baseline else "-"
            agreement = "-" if reference is None else f"{psnr(np.load(output), reference):.1f} dB"
            bf16_share = f"{rate / bf16_ceiling:12.0%}" if native else f"{'(no native)':>12}"
            print(
                f"| {size:9} | {variant:13} | {r['seconds']:9.3f} | {r['setup']:7.1f} | "
                f"{flops / 1e12:5.2f} | {rate:7.0f} | {rate / fp32_ceiling:12.0%} | {bf16_share} | "
                f"{r['peak_gb']:5.2f} GB | {agreement:>13} | {ratio:>13} |"
            )
    print("\n".join(sorted(notes)))


if __name__ == "__main__":
    main()
