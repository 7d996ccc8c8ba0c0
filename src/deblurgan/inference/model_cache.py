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
flags) and the versions of OpenVINO and deblurgan. It records the precision the agreement check
chose and the converted model that runs it, so the check runs once per machine and model, and a
later run loads that model without PyTorch (:mod:`deblurgan.inference.cached_network`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from deblurgan.hardware import machine_id
from deblurgan.io.atomic import atomic_write_bytes
from deblurgan.version import __version__

MANIFEST = "manifest.json"
XML = "generator.xml"  # a converted model's graph; its weights are generator.bin
_CHUNK = 2**22


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
    except OSError:  # read-only or full cache: run without caching
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
    shutil.rmtree(folder, ignore_errors=True)
    return False


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


def _openvino_version() -> str:
    try:
        return importlib.metadata.version("openvino")
    except importlib.metadata.PackageNotFoundError:
        return "none"


def verdict_path(weights_sha256: str, request: dict[str, Any]) -> Path:
    """Where the verdict for these weights (by content), this request, this machine and these
    versions of OpenVINO and deblurgan is kept."""
    key = json.dumps(
        {
            "weights": weights_sha256,
            "request": request,
            "machine": machine_id(),
            "openvino": _openvino_version(),
            "deblurgan": __version__,
        },
        sort_keys=True,
    )
    return cache_dir() / "verdicts" / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"


def read_verdict(weights_sha256: str, request: dict[str, Any]) -> Verdict | None:
    """The stored verdict, if there is one and its model folder is intact (a damaged model
    folder is removed, and its verdict with it)."""
    path = verdict_path(weights_sha256, request)
    try:
        verdict = Verdict(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):  # none yet, or unreadable: decided again
        return None
    if not verified_folder(cache_dir() / verdict.model):
        path.unlink(missing_ok=True)
        return None
    return verdict


def write_verdict(weights_sha256: str, request: dict[str, Any], verdict: Verdict) -> None:
    """Store a verdict (atomically; an unwritable cache only means deciding again next time)."""
    try:
        text = json.dumps(dataclasses.asdict(verdict), indent=1)
        atomic_write_bytes(verdict_path(weights_sha256, request), text.encode())
    except OSError:
        pass
