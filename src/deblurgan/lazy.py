"""Packages whose public names are imported on first use (PEP 562).

A package lists ``name -> defining module`` and gets a module ``__getattr__`` and
``__dir__``, so that importing one part of it (``deblurgan.blur.frames``) does not pay for
the imports of the others (SciPy's signal package, numba, PyTorch).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def lazy_exports(
    package: str, exports: dict[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package`` that import ``exports`` on demand.

    Args:
        package: The package's ``__name__``.
        exports: Public name -> the module that defines it.

    Examples:
        >>> import sys, types
        >>> sys.modules["example"] = types.ModuleType("example")
        >>> getattr_, dir_ = lazy_exports("example", {"psnr": "deblurgan.metrics"})
        >>> getattr_("psnr").__module__, dir_(), "psnr" in vars(sys.modules["example"])
        ('deblurgan.metrics', ['psnr'], True)
    """

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(exports[name]), name)
        setattr(sys.modules[package], name, value)  # later lookups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted({*exports, *getattr(sys.modules[package], "__all__", ())})

    return __getattr__, __dir__
