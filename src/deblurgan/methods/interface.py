"""One interface for deblurring methods, and the table that builds them by name.

A method is anything with the :class:`~deblurgan.restoration.DeblurMethod` interface. The
batch runner, videos, ``evaluate`` and ``serve`` only use that interface; :data:`METHODS`
maps each name to a builder and a plain-words summary, so a new method is one table entry.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from deblurgan.restoration import DeblurMethod, Restoration

__all__ = ["METHODS", "DeblurMethod", "MethodEntry", "MethodOptions", "Restoration", "build_method"]


@dataclasses.dataclass(frozen=True)
class MethodOptions:
    """Everything a user can choose about a method (each method reads its own fields).

    Attributes:
        weights, device, precision, stochastic, seed, tile, backend, max_memory, compile:
            The network's options (:class:`~deblurgan.inference.Deblurrer`); ``weights``
            None is the bundled model.
        kernel_size: Blind deconvolution's kernel side in pixels (odd); None: automatic.
        progress: Show progress bars for the stages of one image.
        on_stage: Called by the methods that estimate kernels with a stage in plain words
            ("estimating the blur", "sharpening") and the fraction of it done, often; an
            exception it raises stops the method there and propagates (how a caller
            cancels).
    """

    weights: str | Path | None = None
    device: str = "auto"
    precision: str = "auto"
    stochastic: bool = False
    seed: int = 0
    tile: int | None = None
    backend: str = "auto"
    max_memory: int | None = None
    compile: bool = False
    kernel_size: int | None = None
    progress: bool = False
    on_stage: Callable[[str, float], None] | None = None


def _network(options: MethodOptions) -> DeblurMethod:
    from deblurgan.inference.cached_network import load_network

    return load_network(
        options.weights,
        device=options.device,
        precision=options.precision,
        stochastic=options.stochastic,
        seed=options.seed,
        tile=options.tile,
        backend=options.backend,
        max_memory=options.max_memory,
        compile=options.compile,
    )


def _l0(options: MethodOptions) -> DeblurMethod:
    from deblurgan.deconv.blind import BlindDeconvolution

    return BlindDeconvolution(
        kernel_size=options.kernel_size, progress=options.progress, on_stage=options.on_stage
    )


def _auto(options: MethodOptions) -> DeblurMethod:
    from deblurgan.methods.auto import AutoDeblur

    network = None
    if options.weights is not None:  # the user's own model: load it now, so a bad file or a
        network = _network(options)  # missing extra stops the run before any work
    return AutoDeblur(
        network=(lambda: network) if network is not None else (lambda: _network(options)),
        kernel_size=options.kernel_size,
        progress=options.progress,
        on_stage=options.on_stage,
    )


@dataclasses.dataclass(frozen=True)
class MethodEntry:
    """A row of :data:`METHODS`: how to build the method, what it is in plain words, and
    whether it estimates blur kernels (``--kernel-size``, ``--save-kernel``)."""

    build: Callable[[MethodOptions], DeblurMethod]
    summary: str
    estimates_kernels: bool = False


METHODS: dict[str, MethodEntry] = {
    "auto": MethodEntry(
        _auto,
        "automatic: decides per photo between no blur, one camera-shake kernel, shake that "
        "varies across the frame, and the network (moving objects)",
        estimates_kernels=True,
    ),
    "network": MethodEntry(
        _network,
        "DeblurGAN network (the bundled model or --weights): fast, learned from data",
    ),
    "l0": MethodEntry(
        _l0,
        "blind deconvolution (L0 prior, Xu et al. 2013): estimates one camera-shake kernel "
        "per image; best for a still scene blurred by a shaking camera",
        estimates_kernels=True,
    ),
}


def build_method(name: str = "auto", options: MethodOptions | None = None) -> DeblurMethod:
    """The method called ``name`` (a key of :data:`METHODS`; the automatic one by default),
    built with ``options``.

    Raises:
        ValueError: ``name`` is not a method.

    Examples:
        >>> build_method("l0").name
        'l0'
    """
    if name not in METHODS:
        raise ValueError(f"unknown method {name!r}; choose one of {', '.join(METHODS)}")
    return METHODS[name].build(options or MethodOptions())
