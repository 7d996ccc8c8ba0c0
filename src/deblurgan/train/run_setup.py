"""Setting up a training run: the networks, their optimisers and LR schedules, and resuming.

:func:`build_networks` builds the generator from the architecture table
(:mod:`deblurgan.nets.architectures`) and the critic, :func:`build_optimisers` gives
them Adam and the paper's LR schedule, :func:`resume_run` restores all of it from a
run's latest checkpoint.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import torch
from torch import nn

from deblurgan.checkpoint import load_generator
from deblurgan.nets import Critic, init_weights
from deblurgan.nets.architectures import architecture_name, build_generator
from deblurgan.train.config import Config, ConfigError, ModelConfig
from deblurgan.train.run_folder import truncate_log
from deblurgan.train.state import load_training_state


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


@dataclasses.dataclass
class Trainables:
    """The two networks with their optimisers and LR schedules: what a checkpoint holds.

    Attributes:
        generator, critic: The networks (unwrapped; DistributedDataParallel wraps them apart).
        opt_g, opt_d: Their Adam optimisers.
        schedules: The generator's and the critic's LR schedules, in that order.
    """

    generator: nn.Module
    critic: Critic
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    schedules: list[torch.optim.lr_scheduler.LambdaLR]


@dataclasses.dataclass
class Progress:
    """Where a run stands.

    Attributes:
        iteration: Generator steps done.
        consumed: Batches drawn from the epoch plan (this fixes the data order on resume).
        best_psnr: Best validation PSNR so far.
    """

    iteration: int = 0
    consumed: int = 0
    best_psnr: float = -math.inf


def build_networks(model: ModelConfig, seed: int, resume: bool) -> tuple[nn.Module, Critic]:
    """The generator (built from the architecture table) and the critic, initialised from
    ``seed`` in that order; a fine-tuning run's generator then takes the weights of
    ``model.init_from`` (unless resuming: a resumed run's weights are in its checkpoint).

    Raises:
        ConfigError: ``identity_init`` for an architecture without a ``head`` convolution,
            or an ``init_from`` checkpoint whose architecture or constructor arguments (all
            but ``dropout``) differ from the configured generator's, naming both values.
    """
    init_rng = torch.Generator().manual_seed(seed)
    generator = build_generator(model.architecture, model.generator_arguments())
    init_weights(generator, generator=init_rng)
    if model.identity_init:  # a residual generator then starts as G(x) = x
        head = getattr(generator, "head", None)
        if not isinstance(head, nn.Conv2d):
            raise ConfigError(
                f"model.identity_init: the {model.architecture!r} architecture has no head "
                "convolution to zero"
            )
        nn.init.zeros_(head.weight)
    if model.init_from and not resume:  # fine-tuning
        _load_init_from(generator, model)
    critic = init_weights(Critic(ndf=model.ndf, n_layers=model.n_layers), generator=init_rng)
    return generator, critic


# Constructor arguments a fine-tune may change: dropout only regularises training, the learned
# function (evaluation mode) does not depend on it. Any other difference (learn_residual, widths,
# depths) makes the loaded weights compute something else, or not fit.
FINE_TUNE_MAY_CHANGE = frozenset({"dropout"})


def _load_init_from(generator: nn.Module, model: ModelConfig) -> None:
    found = load_generator(model.init_from, model.learn_residual)
    if type(found) is not type(generator):
        raise ConfigError(
            f"model.init_from: {model.init_from} holds a {architecture_name(found)!r} "
            f"generator, not {model.architecture!r}"
        )
    differ = [
        key
        for key, value in generator.config.items()
        if key not in FINE_TUNE_MAY_CHANGE and found.config.get(key) != value
    ]
    if differ:
        stored = ", ".join(f"{key}={found.config.get(key)!r}" for key in differ)
        given = ", ".join(f"{key}={generator.config[key]!r}" for key in differ)
        raise ConfigError(
            f"model.init_from: {model.init_from} holds a generator built with {stored}, but "
            f"this run configures {given}: set model.{differ[0]} (and any other named) to the "
            "stored value, or start from another checkpoint"
        )
    generator.load_state_dict(found.state_dict())


def critic_steps(config: Config) -> int:
    """Critic steps per generator step: ``optim.critic_steps``, or 0 without a GAN loss."""
    return config.optim.critic_steps if config.loss.gan != "none" else 0


def total_iterations(config: Config, batches_per_epoch: int) -> int:
    """Generator steps in the whole run: ``optim.iterations``, or ``optim.epochs`` passes over
    the data at ``critic_steps + 1`` batches per generator step."""
    o = config.optim
    return o.iterations or max(
        1, math.ceil(o.epochs * batches_per_epoch / (critic_steps(config) + 1))
    )


def build_optimisers(
    generator: nn.Module, critic: Critic, config: Config, total: int
) -> Trainables:
    """Adam for both networks, with a constant LR for the first ``optim.decay_start`` of the
    ``total`` iterations and a linear decay to zero after (:func:`lr_factor`)."""
    o = config.optim
    opt_g = torch.optim.Adam(generator.parameters(), lr=o.lr, betas=o.betas)
    opt_d = torch.optim.Adam(critic.parameters(), lr=o.lr, betas=o.betas)
    schedules = [
        torch.optim.lr_scheduler.LambdaLR(opt, lambda it: lr_factor(it, total, o.decay_start))
        for opt in (opt_g, opt_d)
    ]
    return Trainables(generator, critic, opt_g, opt_d, schedules)


def resume_run(
    run_dir: Path, rank: int, nets: Trainables, rng: torch.Generator, total: int
) -> Progress:
    """Restore networks, optimisers, schedules and this rank's random state from
    ``RUN/checkpoints/latest.pt``; rank 0 cuts the log back to the checkpoint's iteration.

    Args:
        run_dir: The run's folder.
        rank: This process's rank.
        nets: The freshly built networks, optimisers and schedules, restored in place.
        rng: This process's random generator, restored in place.
        total: The iterations the run is now configured for.

    Returns:
        Where the run stood at that checkpoint.

    Raises:
        FileNotFoundError: No checkpoint to resume from.
        ConfigError: The run is already past ``total`` (nothing is changed).
    """
    state = load_training_state(run_dir)
    if state["iteration"] > total:
        raise ConfigError(
            f"--resume: the run in {run_dir} reached iteration {state['iteration']}, past the "
            f"{total} iterations optim.iterations / optim.epochs now give: configure at least "
            f"{state['iteration']}, or start a new run.dir"
        )
    nets.generator.load_state_dict(state["generator"])
    nets.critic.load_state_dict(state["critic"])
    nets.opt_g.load_state_dict(state["opt_g"])
    nets.opt_d.load_state_dict(state["opt_d"])
    for schedule, saved in zip(nets.schedules, state["schedules"]):
        schedule.load_state_dict(saved)
    rng.set_state(state["rng"][rank])
    if rank == 0:
        truncate_log(run_dir / "log.jsonl", state["iteration"])
    return Progress(state["iteration"], state["batches"], state["best_psnr"])
