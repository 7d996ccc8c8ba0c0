"""Crops per second of the sprint's recipe, stage by stage, and what bounds it.

Times, on the configured device, each stage that makes a training batch (crops of the
pack's photo tiles, camera-shake blur by FFT, dynamic-scene blur by grid_sample, crops
of the real pairs, one whole mixed batch), the training step alone on a fixed batch, and
both together as the sprint runs them; on CUDA also the GPU's utilisation during the
last (NVML, where it answers). Each figure is the median of ``--repeats`` timed runs after
``--warmup`` untimed ones, synchronised on CUDA. The stage with the lowest crops/s
bounds the sprint; "data share" is the batch's time over batch + step.

Run it on an idle machine: timings taken while others share the CPU are not reliable.

    python benchmarks/sprint_throughput.py --pack sprint_pack                       # GPU
    python benchmarks/sprint_throughput.py --pack sprint_pack --set run.device=cpu \\
        --set run.precision=fp32 --set run.compile=false --set data.batch=8 --set data.crop=64
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch

from deblurgan.runtime import autocast, resolve_device
from deblurgan.train.gpu_blur import kernel_blur_pairs, scene_blur_pairs
from deblurgan.train.sprint import build_networks, generator_update
from deblurgan.train.sprint_config import load_sprint_config
from deblurgan.train.sprint_data import SprintBatches, load_pack

ROOT = Path(__file__).resolve().parents[1]


def timed(run: Callable[[], object], device: torch.device, warmup: int, repeats: int) -> float:
    """Median seconds of ``run`` over ``repeats`` calls after ``warmup`` untimed ones."""

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    for _ in range(warmup):
        run()
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    """Time every stage and print one table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=ROOT / "configs" / "sprint.yaml")
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--pack", type=Path, default=ROOT / "sprint_pack")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    config = load_sprint_config(args.config, [*args.overrides, f"data.pack={args.pack}"])
    device = resolve_device(config.run.device)
    pack = load_pack(config.data.pack, device)
    rng = torch.Generator(device).manual_seed(0)
    d, mix = config.data, config.data.mix
    batches = SprintBatches(pack, d.batch, d.crop, mix, rng)
    n_real, n_kernel, n_scene = batches.counts
    k_side, s_side = d.crop + 2 * (mix.kernel_size // 2), d.crop + 2 * mix.scene_margin
    tiles_k = batches._crops(pack.photos, max(n_kernel, 1), k_side)[0]
    tiles_s = batches._crops(pack.photos, max(n_scene, 1), s_side)[0]
    stages: dict[str, tuple[int, Callable[[], object]]] = {
        "crops of photo tiles": (d.batch, lambda: batches._crops(pack.photos, d.batch, k_side)),
        "camera-shake blur (FFT)": (
            len(tiles_k),
            lambda: kernel_blur_pairs(tiles_k, mix.kernel_size, rng, mix.noise, mix.still),
        ),
        "dynamic-scene blur (grid_sample)": (
            len(tiles_s),
            lambda: scene_blur_pairs(
                tiles_s,
                tiles_s.roll(1, 0),
                rng,
                mix.scene_frames,
                mix.scene_margin,
                mix.scene_motion,
                mix.noise,
            ),  # fmt: skip
        ),
        "one mixed batch": (d.batch, batches),
    }
    if n_real:
        stages["crops of real pairs"] = (
            d.batch,
            lambda: batches._crops(pack.real_blur, d.batch, d.crop, pack.real_sharp),
        )
    nets = build_networks(config, device)
    use_compile = config.run.compile is True or (
        config.run.compile == "auto" and device.type == "cuda"
    )
    g_train = torch.compile(nets.generator) if use_compile else nets.generator
    amp = autocast(device, config.run.precision)
    memory = torch.channels_last if config.run.channels_last else torch.contiguous_format
    fixed = [t.contiguous(memory_format=memory) for t in batches()]

    def step() -> object:
        return generator_update(g_train, nets, *fixed, config, None, amp, rng)

    def both() -> object:
        b, s = (t.contiguous(memory_format=memory) for t in batches())
        return generator_update(g_train, nets, b, s, config, None, amp, rng)

    stages["training step (fixed batch)"] = (d.batch, step)
    stages["batch + step (the sprint)"] = (d.batch, both)
    seconds = {}
    print(f"device {device}, batch {d.batch} of {d.crop}x{d.crop}, precision "
          f"{config.run.precision}, compile {use_compile}, {config.model.architecture}")  # fmt: skip
    print("| stage | crops/s | ms per call |")
    print("|---|---|---|")
    for name, (crops, run) in stages.items():
        seconds[name] = timed(run, device, args.warmup, args.repeats)
        print(f"| {name} | {crops / seconds[name]:.1f} | {1000 * seconds[name]:.1f} |")
    data = seconds["one mixed batch"]
    share = data / (data + seconds["training step (fixed batch)"])
    bound = min(stages, key=lambda n: stages[n][0] / seconds[n])
    print(f"data share of batch + step: {share:.0%}; slowest stage: {bound}")
    if device.type == "cuda":
        try:
            utilisation = torch.cuda.utilization(device)
            print(f"GPU utilisation just after the timed runs (NVML): {utilisation}%")
        except Exception as err:  # noqa: BLE001 - NVML may be missing; the rest stands
            print(f"GPU utilisation: not readable ({err})")


if __name__ == "__main__":
    main()
