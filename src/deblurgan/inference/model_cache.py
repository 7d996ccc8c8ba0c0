"""Converted models on disk, checked before use, and the verdicts that let a later run skip
PyTorch.

Everything lives under :func:`cache_dir` (``$DEBLURGAN_CACHE/openvino``, default
``~/.cache/deblurgan/openvino``)::

    <model key>/                  a converted model: generator.xml, generator.bin, manifest.json
    <model key>-<int8 recipe>/    its int8 quantisation, the same files
    verdicts/<request key>.json   what precision="auto" chose, and where that model is

A model folder is written in a temporary folder and renamed into place; its manifest holds the
size and SHA-256 of each file, and a folder that does not match it (a disk error, a killed
copy, an edit) is removed, so the model is converted again instead of failing or running
something else.

A :class:`Verdict` is keyed by the *content* of the weights file (a changed file under the same
name is a new model), the request (device, precision, backend), the machine (CPU model and
flags) and the versions of OpenVINO and deblurgan (:data:`VERDICT_KEY`). It records the
precision the agreement check chose and the converted model that runs it, so the check runs once
per machine and model, and a later run loads that model without PyTorch
(:mod:`deblurgan.inference.cached_network`).

Nothing in the cache is trusted: a verdict whose fields do not fit its schema, or whose model is
not a folder directly inside the cache, is discarded and decided again; nothing outside the
cache is ever removed. A model is read into memory and checked against its manifest from the
same bytes (:func:`read_model_files`), so a file changed or truncated later cannot change or
crash a running model. A cache that cannot be written (read-only, another user's, a file) only
costs time: the model is converted in memory on every run, with one warning that says so.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import json
import math
import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from deblurgan.hardware import machine_id
from deblurgan.io.atomic import atomic_write_bytes
from deblurgan.version import __version__

MANIFEST = "manifest.json"
XML = "generator.xml"  # a converted model's graph; its weights are generator.bin
BIN = "generator.bin"
PRECISIONS = ("int8", "bf16", "fp32")
# What a verdict is keyed by: anything that can change the decision or the converted model.
VERDICT_KEY = ("weights", "request", "machine", "openvino", "deblurgan")
_MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")  # a folder name, never a path
_CHUNK = 2**22
_warned_unwritable: set[str] = set()  # cache folders already warned about, once per process


class CacheNotWritableWarning(UserWarning):
    """The model cache cannot be written: the network is converted again on every run."""


def warn_unwritable(cache: Path, reason: object) -> None:
    """Warn, once per process and cache folder, that ``cache`` cannot be written, so that
    every run converts the model again (seconds each time)."""
    folder = str(cache)
    if folder in _warned_unwritable:
        return
    _warned_unwritable.add(folder)
    warnings.warn(
        f"the model cache {folder} cannot be written ({reason}); the network will be "
        "converted again on every run (seconds each time): make it writable, or set "
        "DEBLURGAN_CACHE to a writable folder",
        CacheNotWritableWarning,
        stacklevel=2,
    )


def cache_dir() -> Path:
    """Where converted models are kept: ``openvino`` in ``$DEBLURGAN_CACHE``, else in
    ``$XDG_CACHE_HOME/deblurgan``, else in ``~/.cache/deblurgan``."""
    root = os.environ.get("DEBLURGAN_CACHE") or Path(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "deblurgan"
    )
    return Path(root) / "openvino"


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file's content, in hex.

    Raises:
        OSError: The file cannot be read.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _describe(folder: Path) -> dict[str, list]:
    """``{name: [size, sha256]}`` of the files in ``folder`` other than the manifest."""
    return {
        path.name: [path.stat().st_size, file_sha256(path)]
        for path in sorted(folder.iterdir())
        if path.is_file() and path.name != MANIFEST
    }


def save_model_folder(write: Callable[[Path], None], folder: Path) -> bool:
    """Create ``folder`` atomically: ``write`` fills a temporary folder beside it, the manifest
    is added, and the folder is renamed into place.

    Returns:
        Whether ``folder`` now holds a model (False: the cache is not writable, or full).
    """
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".tmp-"))
    except OSError as err:  # read-only or full cache: run without caching
        warn_unwritable(folder.parent, err)
        return False
    try:
        write(staging)
        (staging / MANIFEST).write_text(json.dumps(_describe(staging), indent=1))
        staging.rename(folder)
    except (OSError, RuntimeError):  # a full disk (OpenVINO raises RuntimeError), or
        pass  # another process cached it first
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # nothing left after the rename
    return verified_folder(folder)


def verified_folder(folder: Path) -> bool:
    """Whether ``folder`` holds a model whose files match its manifest; a folder that does not
    (a damaged or partial copy) is removed so that it is made again."""
    if not folder.is_dir():
        return False
    try:
        recorded = json.loads((folder / MANIFEST).read_text())
        if recorded and _describe(folder) == recorded:
            return True
    except (OSError, ValueError):
        pass
    shutil.rmtree(folder, ignore_errors=True)  # a read-only cache keeps it: never used
    return False


def read_model_files(folder: Path) -> dict[str, bytes] | None:
    """The files of a model folder, read into memory once and checked against its manifest
    from those same bytes; None where they do not match (the folder is then removed, as by
    :func:`verified_folder`).

    Running a model from these bytes (not from a mapped file) means a file replaced or
    truncated afterwards can neither change the model nor crash the process (SIGBUS).
    """
    try:
        recorded = json.loads((folder / MANIFEST).read_text())
        files = {
            path.name: path.read_bytes()
            for path in sorted(folder.iterdir())
            if path.is_file() and path.name != MANIFEST
        }
        described = {
            name: [len(data), hashlib.sha256(data).hexdigest()] for name, data in files.items()
        }
        if recorded and described == recorded:
            return files
    except (OSError, ValueError):
        pass
    if folder.is_dir():
        shutil.rmtree(folder, ignore_errors=True)
    return None


@dataclasses.dataclass(frozen=True)
class Verdict:
    """What ``precision="auto"`` (or an explicit precision) settled on for one model, request
    and machine, and what running it needs.

    Attributes:
        model: The converted model's folder, relative to :func:`cache_dir`.
        precision: The precision it runs in (``"int8"``, ``"bf16"`` or ``"fp32"``).
        agreement_db: Its 8-bit PSNR to eager fp32 on the check image (None: not checked:
            the precision was asked for, or it is fp32).
        channels: The network's memory width (for the whole-image memory estimate).
        multiple, min_side: The padding the network needs (sides a multiple of
            ``multiple``, at least ``min_side``).
    """

    model: str
    precision: str
    agreement_db: float | None
    channels: int
    multiple: int
    min_side: int

    @classmethod
    def from_json(cls, value: Any) -> Verdict:
        """A verdict from its stored JSON object, every field checked against its schema.

        Raises:
            ValueError: A field is missing, extra, of the wrong type or out of range, or
                ``model`` is not the name of a folder directly inside :func:`cache_dir`.
        """
        names = [field.name for field in dataclasses.fields(cls)]
        if not isinstance(value, dict) or sorted(value) != sorted(names):
            raise ValueError(f"a verdict has exactly the fields {names}")
        model, agreement = value["model"], value["agreement_db"]
        if not isinstance(model, str) or model_path(model) is None:
            raise ValueError(f"model {model!r} is not a folder inside the cache")
        if value["precision"] not in PRECISIONS:
            raise ValueError(f"precision {value['precision']!r} is not one of {PRECISIONS}")
        if agreement is not None and (
            not isinstance(agreement, (int, float))
            or isinstance(agreement, bool)
            or math.isnan(agreement)
        ):
            raise ValueError(f"agreement_db {agreement!r} is not a number of dB")
        for name in ("channels", "multiple", "min_side"):
            number = value[name]
            if not isinstance(number, int) or isinstance(number, bool) or not 1 <= number < 2**16:
                raise ValueError(f"{name} {number!r} is not a positive integer")
        return cls(**value)


def model_path(name: str) -> Path | None:
    """The folder of the model called ``name``, strictly one level inside :func:`cache_dir`:
    None where ``name`` is not a plain folder name (empty, hidden, ``..``, a separator)."""
    if not _MODEL_NAME.fullmatch(name):
        return None
    return cache_dir() / name


def _openvino_version() -> str:
    try:
        return importlib.metadata.version("openvino")
    except importlib.metadata.PackageNotFoundError:
        return "none"


def verdict_key(weights_sha256: str, request: dict[str, Any]) -> dict[str, Any]:
    """What a verdict holds for (:data:`VERDICT_KEY`): these weights (by content), this
    request, this machine and these versions of OpenVINO and deblurgan."""
    return {
        "weights": weights_sha256,
        "request": request,
        "machine": machine_id(),
        "openvino": _openvino_version(),
        "deblurgan": __version__,
    }


def verdict_path(weights_sha256: str, request: dict[str, Any]) -> Path:
    """Where the verdict for :func:`verdict_key` is kept (a hash of it: any change to any
    part is another file)."""
    key = json.dumps(verdict_key(weights_sha256, request), sort_keys=True)
    return cache_dir() / "verdicts" / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"


def read_verdict(weights_sha256: str, request: dict[str, Any]) -> Verdict | None:
    """The stored verdict, if there is one, it fits its schema (:meth:`Verdict.from_json`) and
    its model folder is intact; otherwise None, and a bad verdict is removed (a damaged model
    folder too) so that it is decided again. A read-only cache keeps them, harmlessly."""
    path = verdict_path(weights_sha256, request)
    try:
        text = path.read_text()
    except OSError:  # none yet, or unreadable: decided again
        return None
    try:
        verdict = Verdict.from_json(json.loads(text))
    except ValueError:  # not JSON, or not a verdict (JSONDecodeError is a ValueError)
        discard_verdict(weights_sha256, request)
        return None
    if not verified_folder(cache_dir() / verdict.model):
        discard_verdict(weights_sha256, request)
        return None
    return verdict


def discard_verdict(weights_sha256: str, request: dict[str, Any]) -> None:
    """Remove a verdict (a cache that cannot be written keeps it: it is decided again on each
    run, and the conversion warns that it cannot be cached)."""
    try:
        verdict_path(weights_sha256, request).unlink(missing_ok=True)
    except OSError:
        pass


def write_verdict(weights_sha256: str, request: dict[str, Any], verdict: Verdict) -> None:
    """Store a verdict (atomically; an unwritable cache only means deciding again next time,
    with :func:`warn_unwritable`'s one warning)."""
    try:
        text = json.dumps(dataclasses.asdict(verdict), indent=1)
        atomic_write_bytes(verdict_path(weights_sha256, request), text.encode())
    except OSError as err:
        warn_unwritable(cache_dir(), err)
