"""Generator checkpoints: safetensors weights with the constructor arguments beside them.

Our format is one ``.safetensors`` file. Its header metadata holds
``architecture`` (a name in :data:`~deblurgan.nets.architectures.ARCHITECTURES`;
files without one hold the ``"resnet"`` :class:`~deblurgan.nets.Generator`) and JSON
strings: ``config`` (the architecture's constructor arguments), ``deblurgan_version``
and ``training`` (a free-form summary). Loading reads no pickle, so a checkpoint from a
stranger cannot run code.

The authors' original files (``latest_net_G.pth`` from their pix2pix-style
code) are read with ``torch.load(weights_only=True)``, which also refuses
arbitrary pickled objects. Their keys index one flat ``nn.Sequential``; with
``N`` ResBlocks the mapping to our names is::

    model.1                      -> stem.0          (7x7 conv)
    model.4, model.7             -> down.0.0, down.1.0
    model.{10+i}.conv_block.1    -> blocks.{i}.conv1
    model.{10+i}.conv_block.6    -> blocks.{i}.conv2  (.5 when trained without dropout)
    model.{10+N}, model.{13+N}   -> up.0.0, up.1.0  (transposed convs)
    model.{17+N}                 -> head            (final 7x7 conv)

A ``module.`` prefix (DataParallel) is stripped, and the InstanceNorm
``running_mean`` / ``running_var`` / ``num_batches_tracked`` buffers that old
PyTorch versions saved are dropped: our InstanceNorm tracks no statistics.

A training checkpoint (``RUN/checkpoints/latest.pt`` or ``iter_*.pt``, see
:mod:`deblurgan.train.state`), read the same safe way, gives its generator, rebuilt from the
architecture and constructor arguments stored beside the weights (or, in checkpoints written
before those were stored, from the run's ``model`` configuration).
"""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load as load_safetensors_bytes
from safetensors.torch import save as save_safetensors_bytes

from deblurgan.io.atomic import atomic_write_bytes
from deblurgan.nets.architectures import (
    ARCHITECTURES,
    DEFAULT_ARCHITECTURE,
    GENERATOR_ARGUMENTS,
    architecture_name,
    build_generator,
)
from deblurgan.version import __version__

FORMAT_TAG = "deblurgan.generator"
_NORM_BUFFERS = ("running_mean", "running_var", "num_batches_tracked")


class CheckpointError(ValueError):
    """A checkpoint file is missing, unreadable or does not describe a generator."""


def save_generator(
    generator: torch.nn.Module,
    path: str | os.PathLike,
    training: dict[str, Any] | None = None,
    dtype: torch.dtype = torch.float32,
) -> None:
    """Write ``generator`` to ``path`` (a ``.safetensors`` file) atomically.

    Args:
        generator: The network to save, of a class in
            :data:`~deblurgan.nets.architectures.ARCHITECTURES` (its name is stored).
        path: Target file.
        training: JSON-serialisable summary of how it was trained.
        dtype: Storage dtype of the floating-point weights (e.g. ``torch.float16``
            to halve the file); loading always returns float32.

    Raises:
        ValueError: The network's class is not in the architecture table.
    """
    architecture = architecture_name(generator)
    tensors = {
        k: v.detach().to("cpu", dtype).contiguous() for k, v in generator.state_dict().items()
    }
    metadata = {
        "format": FORMAT_TAG,
        "architecture": architecture,
        "config": json.dumps(generator.config),
        "deblurgan_version": __version__,
        "training": json.dumps(training or {}),
    }
    atomic_write_bytes(path, save_safetensors_bytes(tensors, metadata=metadata))


def read_metadata(path: str | os.PathLike, data: bytes | None = None) -> dict[str, Any]:
    """Return the decoded header metadata of one of our checkpoints: ``architecture``
    (``"resnet"`` for files written before names were stored), ``config``,
    ``deblurgan_version`` and ``training``.

    Args:
        path: The checkpoint (named in errors).
        data: Its bytes, if already read: parsed instead of the file.
    """
    try:
        if data is not None:  # the header: 8 bytes of length, then JSON
            size = int.from_bytes(data[:8], "little")
            raw = json.loads(data[8 : 8 + size]).get("__metadata__") or {}
        else:
            path = _existing_file(path)
            with safe_open(str(path), framework="pt") as f:
                raw = f.metadata() or {}
    except (SafetensorError, OSError, ValueError, AttributeError) as err:
        raise CheckpointError(f"{path}: not a readable safetensors file ({err})") from err
    if raw.get("format") != FORMAT_TAG:
        raise CheckpointError(
            f"{path}: not a deblurgan generator checkpoint (no '{FORMAT_TAG}' tag)"
        )
    return {
        "architecture": raw.get("architecture", DEFAULT_ARCHITECTURE),
        "config": json.loads(raw["config"]),
        "deblurgan_version": raw.get("deblurgan_version"),
        "training": json.loads(raw.get("training", "{}")),
    }


CHECKPOINT_SUFFIXES = frozenset({".safetensors", ".pth", ".pt"})
CHECKPOINT_FORMATS = (
    "a generator checkpoint is our .safetensors (written by training or `deblurgan export "
    "--format safetensors-fp16`), a training checkpoint (RUN/checkpoints/*.pt) or the "
    "authors' .pth; ONNX and OpenVINO files are made from one by `deblurgan export` and are "
    "not read back"
)
# The keys that tell a training checkpoint (deblurgan.train.state) from a plain state dict.
TRAINING_STATE_KEYS = frozenset({"iteration", "generator", "config"})


def load_generator(
    path: str | os.PathLike, learn_residual: bool = True, data: bytes | None = None
) -> torch.nn.Module:
    """Rebuild a generator from a checkpoint, on the CPU, in eval mode, float32.

    The network is built from the architecture table by the stored name (a
    :class:`~deblurgan.nets.Generator` for original files and for ours without one).

    Args:
        path: Our ``.safetensors`` checkpoint, a training checkpoint
            (``RUN/checkpoints/*.pt``), or the authors' original ``.pth`` generator file.
        learn_residual: For the authors' files only, which do not record it: whether
            the model was trained with the global skip (the paper's setting).
        data: The file's bytes, if the caller read (and hashed) them: these are parsed,
            not the file again, which may have changed since.

    Raises:
        CheckpointError: The file is missing or is not a generator checkpoint, or names an
            architecture that is not in the table.
    """
    path = _existing_file(path) if data is None else Path(path)
    if path.suffix.lower() not in CHECKPOINT_SUFFIXES:
        raise CheckpointError(f"{path}: not a generator checkpoint; {CHECKPOINT_FORMATS}")
    if path.suffix == ".safetensors":
        data = path.read_bytes() if data is None else data
        meta = read_metadata(path, data)
        generator = _build(meta["architecture"], meta["config"], path)
        state = load_safetensors_bytes(data)
    else:
        architecture, config, state = _read_pickled(path, learn_residual, data)
        generator = _build(architecture, config, path)
    state = {k: v.float() for k, v in state.items()}
    try:
        generator.load_state_dict(state)
    except RuntimeError as err:
        raise CheckpointError(
            f"{path}: weights do not match the stored configuration: {err}"
        ) from err
    return generator.eval()


def original_key_map(n_blocks: int, dropout: bool = True) -> dict[str, str]:
    """Map the authors' ``model.N`` parameter prefixes to our module names."""
    mapping = {"model.1": "stem.0", "model.4": "down.0.0", "model.7": "down.1.0"}
    second_conv = 6 if dropout else 5
    for i in range(n_blocks):
        mapping[f"model.{10 + i}.conv_block.1"] = f"blocks.{i}.conv1"
        mapping[f"model.{10 + i}.conv_block.{second_conv}"] = f"blocks.{i}.conv2"
    mapping[f"model.{10 + n_blocks}"] = "up.0.0"
    mapping[f"model.{13 + n_blocks}"] = "up.1.0"
    mapping[f"model.{17 + n_blocks}"] = "head"
    return mapping


def convert_original_state_dict(
    original: dict[str, torch.Tensor], learn_residual: bool = True
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Translate an original-format state dict to ours, inferring the configuration.

    Returns:
        The state dict in our key layout and the generator configuration.

    Raises:
        CheckpointError: A key has no counterpart, or the layout is not a ResNet generator.
    """
    state = {k.removeprefix("module."): v for k, v in original.items()}
    state = {k: v for k, v in state.items() if not k.endswith(_NORM_BUFFERS)}
    block_ids = {
        int(m.group(1)) for k in state if (m := re.match(r"model\.(\d+)\.conv_block\.", k))
    }
    n_blocks = len(block_ids)
    dropout = any(re.match(r"model\.\d+\.conv_block\.6\.", k) for k in state)
    stem_key, head_key = "model.1.weight", f"model.{17 + n_blocks}.weight"
    if stem_key not in state or head_key not in state:
        raise CheckpointError(
            f"no {stem_key!r} or {head_key!r}: not a DeblurGAN/pix2pix ResNet generator"
        )
    config = {
        "in_channels": state[stem_key].shape[1],
        "out_channels": state[head_key].shape[0],
        "ngf": state[stem_key].shape[0],
        "n_blocks": n_blocks,
        "dropout": 0.5 if dropout else 0.0,
        "learn_residual": learn_residual,
    }
    mapping = original_key_map(n_blocks, dropout)
    converted = {}
    for key, value in state.items():
        prefix, _, leaf = key.rpartition(".")
        if prefix not in mapping:
            raise CheckpointError(f"unexpected key in original generator file: {key!r}")
        converted[f"{mapping[prefix]}.{leaf}"] = value
    return converted, config


def training_generator_arguments(state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The architecture name and constructor arguments of a training checkpoint's generator.

    Args:
        state: A training checkpoint as :func:`torch.load` returns it.
    """
    if "generator_config" in state:
        return state["architecture"], state["generator_config"]
    # Written before the arguments were stored: the run's whole model configuration built it.
    model = state["config"]["model"]
    return model["architecture"], {name: model[name] for name in GENERATOR_ARGUMENTS}


def _read_pickled(
    path: Path, learn_residual: bool, data: bytes | None = None
) -> tuple[str, dict[str, Any], dict[str, torch.Tensor]]:
    """Architecture, constructor arguments and weights of a training checkpoint or of the
    authors' ``.pth``, read without unpickling anything but tensors and plain containers."""
    try:
        source = io.BytesIO(data) if data is not None else path
        original = torch.load(source, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for bad or unsafe pickles
        raise CheckpointError(
            f"{path}: not a readable PyTorch state dict (only tensors are loaded from .pth "
            f"files, never other pickled objects); {CHECKPOINT_FORMATS}"
        ) from err
    if not isinstance(original, dict):
        raise CheckpointError(f"{path}: expected a state dict, found {type(original).__name__}")
    if TRAINING_STATE_KEYS <= original.keys():
        try:
            return (*training_generator_arguments(original), original["generator"])
        except (KeyError, TypeError, ValueError) as err:  # ConfigError is a ValueError
            raise CheckpointError(
                f"{path}: a training checkpoint without a usable generator configuration ({err})"
            ) from err
    try:
        state, config = convert_original_state_dict(original, learn_residual)
    except CheckpointError as err:
        raise CheckpointError(f"{path}: {err}") from err
    return DEFAULT_ARCHITECTURE, config, state


def _build(architecture: str, config: dict[str, Any], path: Path) -> torch.nn.Module:
    if architecture not in ARCHITECTURES:
        raise CheckpointError(
            f"{path}: unknown architecture {architecture!r}; this version of deblurgan "
            f"builds: {', '.join(sorted(ARCHITECTURES))}"
        )
    try:
        return build_generator(architecture, config)
    except TypeError as err:
        raise CheckpointError(
            f"{path}: stored configuration {config} does not fit the {architecture!r} "
            f"architecture: {err}"
        ) from err


def _existing_file(path: str | os.PathLike) -> Path:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    return path
