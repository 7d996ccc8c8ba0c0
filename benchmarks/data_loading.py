"""Training data throughput: samples per second through the DataLoader, by worker count.

Builds the training loader exactly as ``deblurgan train`` does (spawned workers,
``limit_worker_threads`` in each) over a folder of sharp photos blurred on the
fly, and times ``--batches`` batches after a warm-up batch per worker. For each
worker count it also runs the workers with every library's default threads
(no ``worker_init_fn``), the configuration that oversubscribed a 16-core GPU
machine. Compare samples/s with what a training step consumes: batch size /
seconds per step (``benchmarks/train_speed.py``).

Usage:
    python benchmarks/data_loading.py --sharp /work/data/sharp_train [--workers 0 1 2]
        [--mode scene|kernel|mixed] [--crop 128] [--batch 4] [--batches 30]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import torch

from deblurgan.data.pairs import find_sharp_images
from deblurgan.data.recipe import BlurSettings
from deblurgan.train.config import DataConfig
from deblurgan.train.data import (
    EpochPlan,
    PlanSampler,
    TrainingPairs,
    collate_samples,
    limit_worker_threads,
)


def samples_per_second(
    dataset: TrainingPairs, plan: EpochPlan, workers: int, limit: bool, batches: int
) -> float:
    loader = torch.utils.data.DataLoader(
        dataset,
        batch_sampler=PlanSampler(plan),
        collate_fn=collate_samples,
        num_workers=workers,
        multiprocessing_context="spawn" if workers else None,
        worker_init_fn=limit_worker_threads if workers and limit else None,
    )
    stream = iter(loader)
    for _ in range(max(workers, 1)):  # start-up: spawning, imports, numba compilation
        next(stream)
    start = time.perf_counter()
    for _ in range(batches):
        next(stream)
    elapsed = time.perf_counter() - start
    del stream
    return batches * plan.batch_size / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sharp", type=Path, required=True, help="folder of sharp photos")
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--mode", choices=["kernel", "scene", "mixed"], default="mixed")
    parser.add_argument("--crop", type=int, default=128)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--batches", type=int, default=30)
    args = parser.parse_args()
    weights = {"kernel": (1.0, 0.0), "scene": (0.0, 1.0), "mixed": (1.0, 2.0)}[args.mode]
    blur = BlurSettings(weights={"kernel": weights[0], "scene": weights[1]})
    sources = find_sharp_images(args.sharp)
    dataset = TrainingPairs([], sources, DataConfig(crop=args.crop, blur=blur))
    plan = EpochPlan(0, len(sources), 1.0, seed=0, batch_size=args.batch)
    print(
        f"{len(sources)} sharp photos, {args.mode} blur, crop {args.crop}, batch {args.batch}, "
        f"{os.cpu_count()} CPUs"
    )
    print("| workers | threads per worker | samples/s | vs in-process |")
    print("|---|---|---|---|")
    base = None
    for workers in args.workers:
        for limit in (True, False) if workers else (True,):
            rate = samples_per_second(dataset, plan, workers, limit, args.batches)
            base = base or rate
            threads = "(main process)" if not workers else "1" if limit else "library defaults"
            print(f"| {workers} | {threads} | {rate:.2f} | {rate / base:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
