"""The training loop: 5 critic steps, 1 generator step, repeat (paper section 5).

Read top to bottom: :func:`train` sets up (processes, device, networks,
optimisers, LR schedule, data), resumes if asked (:func:`resume_run`), then
runs :func:`step_loop`: each iteration is :func:`gan_iteration` (critic steps
on fresh batches, one generator step), then logging, validation and
checkpoints. Under ``torchrun`` each process trains on its shard with
DistributedDataParallel (NCCL on GPU, gloo on CPU); rank 0 alone logs,
validates and writes checkpoints.
"""

from __future__ import annotations

import dataclasses
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from deblurgan.checkpoint import save_generator
from deblurgan.hardware import process_device
from deblurgan.nets.architectures import architecture_name
from deblurgan.runtime import autocast, check_precision, resolve_device
from deblurgan.train.config import Config, DataConfig, with_absolute_paths
from deblurgan.train.data import (
    EpochPlan,
    PlanSampler,
    TrainingPairs,
    UnreadableFiles,
    collate_samples,
    gather_pairs,
    limit_worker_threads,
)
from deblurgan.train.distributed import any_process, gather, start_processes, stop_now
from deblurgan.train.run_folder import RunLog, prepare_run_folder, writing
from deblurgan.train.run_setup import (
    Progress,
    Trainables,
    build_networks,
    build_optimisers,
    critic_steps,
    resume_run,
    total_iterations,
)
from deblurgan.train.state import save_training_state
from deblurgan.train.steps import critic_step, generator_step
from deblurgan.train.stop_signals import StopRequest, ignore_stop_signals, stop_on_signals
from deblurgan.train.validation import training_summary, validate_and_keep_best
from deblurgan.train.vgg import load_vgg19_conv33

Batch = tuple[torch.Tensor, torch.Tensor]  # blurred, sharp: (B, 3, H, W) in [-1, 1]


def train(
    config: Config,
    resume: bool = False,
    progress: bool = True,
    stop_at: int | None = None,
    overwrite: bool = False,
    stop_after_s: float | None = None,
) -> nn.Module:
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
        OutputFolderError: ``run.dir`` cannot be created or written (checked before any work).
        RunExistsError: ``run.dir`` holds a run and neither ``resume`` nor ``overwrite``.
        KeyboardInterrupt: SIGINT (Ctrl-C) or SIGTERM stopped the run; the iteration it came
            in was finished and checkpointed (:mod:`deblurgan.train.stop_signals`).
        RunWriteError: A checkpoint or log file cannot be written (named); those written
            before are kept.
        UnreadableDataError: More than ``data.max_unreadable`` of the data cannot be read.
    """
    config = with_absolute_paths(config)
    if stop_after_s is not None and not stop_after_s >= 0:
        raise ValueError(f"stop_after_s must be >= 0 seconds, got {stop_after_s}")
    deadline = None if stop_after_s is None else time.monotonic() + stop_after_s
    rank, world = start_processes(config.run.device)
    prepare_run_folder(Path(config.run.dir), resume, overwrite, rank, world)
    device = resolve_device(process_device(config.run.device))  # torchrun: one GPU each
    place = Placement(rank, world, device)
    precision = check_precision(config.run.precision, device)
    memory = torch.channels_last if config.run.channels_last else torch.contiguous_format

    # Set up: networks, content-loss features, data, optimisers and LR schedules.
    generator, critic = build_networks(config.model, config.run.seed, resume)
    generator.to(device, memory_format=memory).train()
    critic.to(device, memory_format=memory).train()
    features = (
        load_vgg19_conv33(config.loss.vgg_weights).to(device)
        if config.loss.content == "perceptual"
        else None
    )
    real, synthetic, val, problems = gather_pairs(config.data)
    if rank == 0:
        for problem in problems:
            tqdm.write(f"data: {problem}")
    plan = EpochPlan(
        len(real),
        len(synthetic),
        config.data.synthetic_ratio,
        config.run.seed,
        config.optim.batch_size,
        rank,
        world,
    )
    total = total_iterations(config, plan.batches_per_epoch)
    nets = build_optimisers(generator, critic, config, total)
    rng = torch.Generator(device).manual_seed(config.run.seed * 1000 + rank)

    # Resume.
    done = resume_run(Path(config.run.dir), rank, nets, rng, total) if resume else Progress()

    # Iterate.
    dataset = TrainingPairs(real, synthetic, config.data)
    loader = make_loader(dataset, PlanSampler(plan, start=done.consumed), config.data, device)
    prefix = f"rank {rank}: " if world > 1 else ""
    unreadable = UnreadableFiles(
        len(dataset), config.data.max_unreadable, lambda line: tqdm.write(prefix + line)
    )
    batches = iter(loader)

    def next_batch() -> Batch:
        blurred, sharp, found = _to(next(batches), device, memory)
        unreadable.add(found)
        return blurred, sharp

    end = total if stop_at is None else min(total, stop_at)
    with stop_on_signals() as stop:
        step_loop(
            config,
            nets,
            done,
            place,
            next_batch,
            critic_steps=critic_steps(config),
            rng=rng,
            features=features,
            amp=autocast(device, precision),
            total=total,
            end=end,
            val=val,
            unreadable=unreadable,
            progress=progress,
            deadline=deadline,
            stop=stop,
        )
    interrupted = any_process(stop.requested, device, world) and done.iteration < end
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()
    if interrupted:
        if rank == 0:
            name = signal.Signals(stop.signal).name if stop.signal else "a stop signal"
            print(
                f"{name}: stopped after iteration {done.iteration}, checkpointed in "
                f"{Path(config.run.dir) / 'checkpoints'}; continue with --resume",
                file=sys.stderr,
            )
        raise KeyboardInterrupt
    return generator


def make_loader(
    dataset: TrainingPairs, sampler: PlanSampler, data: DataConfig, device: torch.device
) -> torch.utils.data.DataLoader:
    """The batches of ``sampler``'s plan, loaded by ``data.workers`` spawned processes."""
    return torch.utils.data.DataLoader(
        dataset,
        batch_sampler=sampler,
        collate_fn=collate_samples,
        num_workers=data.workers,
        pin_memory=device.type == "cuda",
        # Spawned, not forked: a forked worker inherits OpenMP's state, and numba's parallel
        # kernels (the on-the-fly blur) then hang in it once the parent has used OpenMP.
        multiprocessing_context="spawn" if data.workers else None,
        worker_init_fn=_init_worker if data.workers else None,
    )


def _init_worker(worker_id: int) -> None:
    """A data worker runs on one thread, and leaves Ctrl-C and SIGTERM to the main process,
    which finishes its iteration with the workers' batches, then stops them."""
    limit_worker_threads(worker_id)
    ignore_stop_signals()


@dataclasses.dataclass(frozen=True)
class Placement:
    """This process's place in the run: its rank among ``world`` processes, and its device."""

    rank: int
    world: int
    device: torch.device


def gan_iteration(
    nets: Trainables,
    g_train: nn.Module,
    d_train: nn.Module,
    next_batch: Callable[[], Batch],
    critic_steps: int,
    config: Config,
    rng: torch.Generator,
    features: nn.Module | None,
    amp: Any,
) -> dict[str, float]:
    """One generator iteration of the paper's schedule: ``critic_steps`` critic steps on
    fresh batches, one generator step on another, then both LR schedules advance (the
    critic's only if it trained).

    Args:
        nets: The networks, optimisers and schedules.
        g_train, d_train: The networks as trained (wrapped by DistributedDataParallel under
            ``torchrun``, else ``nets.generator`` and ``nets.critic``).
        next_batch: Draws the next batch.
        critic_steps: Critic steps per generator step (0 without an adversarial loss).
        config: The run's configuration (its ``loss`` section is used).
        rng: This process's random generator (gradient-penalty mixing, dropout).
        features: The perceptual loss's feature extractor, or None.
        amp: The autocast context of the run's precision.

    Returns:
        The generator step's losses and the mean of each critic-step loss.
    """
    critic_logs = []
    for _ in range(critic_steps):
        blurred, sharp = next_batch()
        critic_logs.append(
            critic_step(
                g_train,
                d_train,
                nets.opt_d,
                blurred,
                sharp,
                loss=config.loss,
                rng=rng,
                autocast=amp,
            )
        )
    blurred, sharp = next_batch()
    logs = generator_step(
        g_train,
        nets.critic,
        nets.opt_g,
        blurred,
        sharp,
        loss=config.loss,
        rng=rng,
        features=features,
        autocast=amp,
    )
    nets.schedules[0].step()
    if critic_steps:
        nets.schedules[1].step()
    if critic_logs:
        logs.update({k: float(np.mean([c[k] for c in critic_logs])) for k in critic_logs[0]})
    return logs


def step_loop(
    config: Config,
    nets: Trainables,
    done: Progress,
    place: Placement,
    next_batch: Callable[[], Batch],
    *,
    critic_steps: int,
    rng: torch.Generator,
    features: nn.Module | None,
    amp: Any,
    total: int,
    end: int,
    val: list,
    unreadable: UnreadableFiles,
    progress: bool,
    deadline: float | None,
    stop: StopRequest,
) -> None:
    """Iterate from ``done`` to ``end`` (or the deadline, or a stop signal): :func:`gan_iteration`,
    then rank 0 logs and validates, and every rank takes part in checkpoints, at their
    intervals and after the last iteration. ``done`` is advanced in place.

    Under ``torchrun`` the networks train wrapped in DistributedDataParallel.
    """
    rank, world, device = place.rank, place.world, place.device
    g_train, d_train = nets.generator, nets.critic
    if world > 1:
        ids = [device.index] if device.type == "cuda" else None
        g_train = DistributedDataParallel(nets.generator, device_ids=ids)
        d_train = DistributedDataParallel(nets.critic, device_ids=ids)
    resumed_at = done.iteration or None  # a new run starts at 0
    log = RunLog(Path(config.run.dir), config, enabled=rank == 0, resumed_at=resumed_at)
    bar = tqdm(
        total=total,
        initial=done.iteration,
        desc="training",
        unit="it",
        disable=not progress or rank != 0,
    )
    while done.iteration < end:
        start = time.perf_counter()
        logs = gan_iteration(
            nets, g_train, d_train, next_batch, critic_steps, config, rng, features, amp
        )
        done.consumed += critic_steps + 1
        done.iteration += 1
        logs.update(lr=nets.schedules[0].get_last_lr()[0], seconds=time.perf_counter() - start)
        if unreadable:
            logs["unreadable_files"] = len(unreadable)
        bar.update()
        last = done.iteration == end or stop_now(deadline, stop.requested, device, world)
        if rank == 0 and (done.iteration % config.run.log_every == 0 or last):
            bar.set_postfix({k: f"{v:.3g}" for k, v in logs.items() if k != "seconds"})
            log.scalars(done.iteration, "train", logs)
        if val and rank == 0 and (done.iteration % config.run.val_every == 0 or last):
            validate_and_keep_best(config, nets.generator, val, device, log, done, last)
        if done.iteration % config.run.checkpoint_every == 0 or last:
            _checkpoint(config, nets, done, rng, rank, world)
        if last:
            break
    bar.close()
    log.close()


def _checkpoint(
    config: Config,
    nets: Trainables,
    done: Progress,
    rng: torch.Generator,
    rank: int,
    world: int,
) -> None:
    """Every rank's random state, gathered; rank 0 writes the training state and exports the
    generator to ``RUN/generator.safetensors``."""
    rng_states = gather(rng.get_state(), world)
    if rank != 0:
        return
    run_dir = Path(config.run.dir)
    save_training_state(
        run_dir,
        {
            "iteration": done.iteration,
            "batches": done.consumed,
            "best_psnr": done.best_psnr,
            "architecture": architecture_name(nets.generator),
            "generator_config": nets.generator.config,
            "generator": nets.generator.state_dict(),
            "critic": nets.critic.state_dict(),
            "opt_g": nets.opt_g.state_dict(),
            "opt_d": nets.opt_d.state_dict(),
            "schedules": [s.state_dict() for s in nets.schedules],
            "rng": rng_states,
            "config": config.to_dict(),
        },
        config.run.keep_last,
    )
    with writing(run_dir / "generator.safetensors"):
        save_generator(
            nets.generator,
            run_dir / "generator.safetensors",
            training=training_summary(config, done.iteration, {}),
        )


def _to(batch, device: torch.device, memory: torch.memory_format) -> list:
    blurred, sharp, found = batch
    images = [
        t.to(device, non_blocking=True).contiguous(memory_format=memory) for t in (blurred, sharp)
    ]
    return [*images, found]
