"""The training loop: 5 critic steps, 1 generator step, repeat (paper section 5).

Read top to bottom: set up (processes, device, networks, optimisers, LR
schedule, data), resume if asked, then iterate: critic steps on fresh
batches, one generator step, log, validate, checkpoint. Under ``torchrun``
each process trains on its shard with DistributedDataParallel (NCCL on GPU,
gloo on CPU); rank 0 alone logs, validates and writes checkpoints.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from deblurgan.checkpoint import load_generator, save_generator
from deblurgan.data.pairs import load_pair
from deblurgan.io.images import ImageReadError
from deblurgan.metrics import psnr, ssim
from deblurgan.nets import Critic, Generator, init_weights
from deblurgan.nets.tensors import rgb_to_tensor, run_padded, tensor_to_rgb
from deblurgan.runtime import autocast, check_precision, resolve_device
from deblurgan.train.config import Config, ConfigError, with_absolute_paths
from deblurgan.train.data import (
    EpochPlan,
    PlanSampler,
    TrainingPairs,
    UnreadableFiles,
    collate_samples,
    gather_pairs,
    limit_worker_threads,
)
from deblurgan.train.run_folder import RunLog, prepare_run_folder, truncate_log
from deblurgan.train.state import load_training_state, save_training_state
from deblurgan.train.steps import critic_step, generator_step
from deblurgan.train.vgg import load_vgg19_conv33


def lr_factor(iteration: int, total: int, decay_start: float = 0.5) -> float:
    """1 for the first ``decay_start`` of training, then linearly down to 0 at ``total``.

    Examples:
        >>> [lr_factor(i, 4) for i in range(5)]
        [1.0, 1.0, 1.0, 0.5, 0.0]
    """
    start = decay_start * total
    if iteration <= start:
        return 1.0
    return max(0.0, 1.0 - (iteration - start) / max(total - start, 1e-9))


def train(
    config: Config,
    resume: bool = False,
    progress: bool = True,
    stop_at: int | None = None,
    overwrite: bool = False,
    stop_after_s: float | None = None,
) -> Generator:
    """Train a DeblurGAN generator as configured.

    Args:
        config: The validated configuration.
        resume: Continue from ``RUN/checkpoints/latest.pt``.
        progress: Show a progress bar (rank 0).
        stop_at: End this session after this iteration (with a checkpoint), leaving
            the schedule as configured; ``--resume`` continues from there.
        overwrite: Delete an earlier run's outputs in ``run.dir`` (without it, and
            without ``resume``, a folder holding a run is refused).
        stop_after_s: End this session at the first iteration that finishes this many
            seconds after the call (with a checkpoint; every process stops at the same
            iteration), leaving the schedule as configured.

    Returns:
        The trained generator (this process's copy). Rank 0 also exports it to
        ``RUN/generator.safetensors`` at every checkpoint.

    Input paths of ``config`` are made absolute against the working folder
    (:func:`~deblurgan.train.config.with_absolute_paths`) before the run stores
    it, so ``--resume`` works from any folder.

    Raises:
        RunExistsError: ``run.dir`` holds a run and neither ``resume`` nor ``overwrite``.
        UnreadableDataError: More than ``data.max_unreadable`` of the data cannot be read.
    """
    config = with_absolute_paths(config)
    if stop_after_s is not None and not stop_after_s >= 0:
        raise ValueError(f"stop_after_s must be >= 0 seconds, got {stop_after_s}")
    deadline = None if stop_after_s is None else time.monotonic() + stop_after_s
    rank, world = _start_processes(config)
    prepare_run_folder(Path(config.run.dir), resume, overwrite, rank, world)
    device = resolve_device(config.run.device)
    if device.type == "cuda" and world > 1:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    precision = check_precision(config.run.precision, device)
    run_dir, m, o, loss = Path(config.run.dir), config.model, config.optim, config.loss
    seed = config.run.seed

    # Networks, optimisers, schedule.
    init_rng = torch.Generator().manual_seed(seed)
    generator = Generator(
        ngf=m.ngf, n_blocks=m.n_blocks, dropout=m.dropout, learn_residual=m.learn_residual
    )
    init_weights(generator, generator=init_rng)
    if m.identity_init:  # a residual generator then starts as G(x) = x
        nn.init.zeros_(generator.head.weight)
    if m.init_from and not resume:  # fine-tuning; a resumed run has its weights in its checkpoint
        try:
            generator.load_state_dict(load_generator(m.init_from, m.learn_residual).state_dict())
        except RuntimeError as err:
            raise ConfigError(
                f"model.init_from: {m.init_from} does not match ngf={m.ngf}, n_blocks={m.n_blocks}"
            ) from err
    critic = init_weights(Critic(ndf=m.ndf, n_layers=m.n_layers), generator=init_rng)
    memory = torch.channels_last if config.run.channels_last else torch.contiguous_format
    generator.to(device, memory_format=memory).train()
    critic.to(device, memory_format=memory).train()
    opt_g = torch.optim.Adam(generator.parameters(), lr=o.lr, betas=o.betas)
    opt_d = torch.optim.Adam(critic.parameters(), lr=o.lr, betas=o.betas)
    features = (
        load_vgg19_conv33(loss.vgg_weights).to(device) if loss.content == "perceptual" else None
    )

    # Data.
    real, synthetic, val, problems = gather_pairs(config.data)
    if rank == 0:
        for problem in problems:
            tqdm.write(f"data: {problem}")
    plan = EpochPlan(
        len(real), len(synthetic), config.data.synthetic_ratio, seed, o.batch_size, rank, world
    )
    critic_steps = o.critic_steps if loss.gan != "none" else 0
    total = o.iterations or max(
        1, math.ceil(o.epochs * plan.batches_per_epoch / (critic_steps + 1))
    )
    schedules = [
        torch.optim.lr_scheduler.LambdaLR(opt, lambda it: lr_factor(it, total, o.decay_start))
        for opt in (opt_g, opt_d)
    ]
    rng = torch.Generator(device).manual_seed(seed * 1000 + rank)

    # Resume.
    iteration, consumed, best_psnr = 0, 0, -math.inf
    if resume:
        state = load_training_state(run_dir)
        generator.load_state_dict(state["generator"])
        critic.load_state_dict(state["critic"])
        opt_g.load_state_dict(state["opt_g"])
        opt_d.load_state_dict(state["opt_d"])
        for schedule, saved in zip(schedules, state["schedules"]):
            schedule.load_state_dict(saved)
        rng.set_state(state["rng"][rank])
        iteration, consumed, best_psnr = state["iteration"], state["batches"], state["best_psnr"]
        if rank == 0:
            truncate_log(run_dir / "log.jsonl", iteration)

    g_train, d_train = generator, critic
    if world > 1:
        ids = [device.index] if device.type == "cuda" else None
        g_train = DistributedDataParallel(generator, device_ids=ids)
        d_train = DistributedDataParallel(critic, device_ids=ids)
    dataset = TrainingPairs(real, synthetic, config.data)
    loader = torch.utils.data.DataLoader(
        dataset,
        batch_sampler=PlanSampler(plan, start=consumed),
        collate_fn=collate_samples,
        num_workers=config.data.workers,
        pin_memory=device.type == "cuda",
        # Spawned, not forked: a forked worker inherits OpenMP's state, and numba's parallel
        # kernels (the on-the-fly blur) then hang in it once the parent has used OpenMP.
        multiprocessing_context="spawn" if config.data.workers else None,
        worker_init_fn=limit_worker_threads if config.data.workers else None,
    )
    batches = iter(loader)

    log = RunLog(run_dir, config, enabled=rank == 0)
    bar = tqdm(
        total=total,
        initial=iteration,
        desc="training",
        unit="it",
        disable=not progress or rank != 0,
    )
    amp = autocast(device, precision)
    end = total if stop_at is None else min(total, stop_at)
    prefix = f"rank {rank}: " if world > 1 else ""
    unreadable = UnreadableFiles(
        len(dataset), config.data.max_unreadable, lambda line: tqdm.write(prefix + line)
    )
    while iteration < end:
        start = time.perf_counter()
        critic_logs = []
        for _ in range(critic_steps):
            blurred, sharp, found = _to(next(batches), device, memory)
            unreadable.add(found)
            critic_logs.append(
                critic_step(
                    g_train, d_train, opt_d, blurred, sharp, loss=loss, rng=rng, autocast=amp
                )
            )
        consumed += critic_steps
        blurred, sharp, found = _to(next(batches), device, memory)
        unreadable.add(found)
        logs = generator_step(
            g_train,
            critic,
            opt_g,
            blurred,
            sharp,
            loss=loss,
            rng=rng,
            features=features,
            autocast=amp,
        )
        consumed += 1
        schedules[0].step()
        if critic_steps:
            schedules[1].step()
        iteration += 1
        if critic_logs:
            logs.update({k: float(np.mean([c[k] for c in critic_logs])) for k in critic_logs[0]})
        logs.update(lr=schedules[0].get_last_lr()[0], seconds=time.perf_counter() - start)
        if unreadable:
            logs["unreadable_files"] = len(unreadable)
        bar.update()
        done = iteration == end or _out_of_time(deadline, device, world)
        if rank == 0 and (iteration % config.run.log_every == 0 or done):
            bar.set_postfix({k: f"{v:.3g}" for k, v in logs.items() if k != "seconds"})
            log.scalars(iteration, "train", logs)
        if val and rank == 0 and (iteration % config.run.val_every == 0 or done):
            metrics = validate(
                generator,
                val,
                device,
                config.data.val_max_side,
                log,
                iteration,
                images=iteration % config.run.image_every == 0 or done,
            )
            if metrics["psnr"] > best_psnr:
                best_psnr = metrics["psnr"]
                save_generator(
                    generator,
                    run_dir / "best_generator.safetensors",
                    training=_summary(config, iteration, metrics),
                )
        if iteration % config.run.checkpoint_every == 0 or done:
            rng_states = _gather(rng.get_state(), world)
            if rank == 0:
                save_training_state(
                    run_dir,
                    {
                        "iteration": iteration,
                        "batches": consumed,
                        "best_psnr": best_psnr,
                        "generator": generator.state_dict(),
                        "critic": critic.state_dict(),
                        "opt_g": opt_g.state_dict(),
                        "opt_d": opt_d.state_dict(),
                        "schedules": [s.state_dict() for s in schedules],
                        "rng": rng_states,
                        "config": config.to_dict(),
                    },
                    config.run.keep_last,
                )
                save_generator(
                    generator,
                    run_dir / "generator.safetensors",
                    training=_summary(config, iteration, {}),
                )
        if done:
            break
    bar.close()
    log.close()
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()
    return generator


@torch.no_grad()
def validate(
    generator: Generator,
    pairs: list,
    device: torch.device,
    max_side: int,
    log: RunLog,
    iteration: int,
    images: bool = False,
) -> dict[str, float]:
    """PSNR/SSIM of deterministic restorations (and of the blurred inputs) on ``pairs``.

    A pair that cannot be decoded is skipped with a warning and counted.
    """
    generator.eval()
    scores: dict[str, list[float]] = {
        "psnr": [],
        "ssim": [],
        "blurred_psnr": [],
        "blurred_ssim": [],
    }
    triplets, skipped = [], 0
    for pair in pairs:
        try:
            blurred, sharp = (_centre_crop(im, max_side) for im in load_pair(pair))
        except ImageReadError as err:  # damaged after start-up's header check
            warnings.warn(f"validation: skipped a pair: {err}", stacklevel=2)
            skipped += 1
            continue
        restored = tensor_to_rgb(run_padded(generator, rgb_to_tensor(blurred).to(device)))
        scores["psnr"].append(psnr(restored, sharp))
        scores["ssim"].append(ssim(restored, sharp))
        scores["blurred_psnr"].append(psnr(blurred, sharp))
        scores["blurred_ssim"].append(ssim(blurred, sharp))
        if images and len(triplets) < 2:
            triplets.append(np.concatenate([blurred, restored, sharp], axis=1))
    generator.train()
    metrics = {k: float(np.mean(v)) if v else math.nan for k, v in scores.items()}
    if skipped:
        metrics["skipped_pairs"] = skipped
    log.scalars(iteration, "val", metrics)
    for i, triplet in enumerate(triplets):
        log.image(iteration, f"val/blurred_restored_sharp_{i}", triplet)
    return metrics


def _start_processes(config: Config) -> tuple[int, int]:
    world = int(os.environ.get("WORLD_SIZE", 1))
    if world == 1:
        return 0, 1
    if not dist.is_initialized():
        uses_cuda = config.run.device.startswith("cuda") or (
            config.run.device == "auto" and torch.cuda.is_available()
        )
        dist.init_process_group("nccl" if uses_cuda else "gloo")
    return dist.get_rank(), dist.get_world_size()


def _out_of_time(deadline: float | None, device: torch.device, world: int) -> bool:
    if deadline is None:
        return False
    late = time.monotonic() >= deadline
    if world == 1:
        return late
    flag = torch.tensor(float(late), device=device)  # one clock for all: every rank stops
    dist.all_reduce(flag, op=dist.ReduceOp.MAX)  # after the same iteration
    return bool(flag)


def _gather(state: torch.Tensor, world: int) -> list[torch.Tensor]:
    if world == 1:
        return [state]
    states: list[Any] = [None] * world
    dist.all_gather_object(states, state.cpu())
    return states


def _to(batch, device: torch.device, memory: torch.memory_format) -> list:
    blurred, sharp, found = batch
    images = [
        t.to(device, non_blocking=True).contiguous(memory_format=memory) for t in (blurred, sharp)
    ]
    return [*images, found]


def _centre_crop(image: np.ndarray, max_side: int) -> np.ndarray:
    h, w = image.shape[:2]
    th, tw = min(h, max_side), min(w, max_side)
    top, left = (h - th) // 2, (w - tw) // 2
    return image[top : top + th, left : left + tw]


def _summary(config: Config, iteration: int, metrics: dict[str, float]) -> dict[str, Any]:
    return {"iteration": iteration, "validation": metrics, "config": config.to_dict()}
