"""The network's fast start: a model converted on an earlier run, run without PyTorch.

The first run with a checkpoint on a machine goes the usual way
(:class:`~deblurgan.inference.Deblurrer`: PyTorch, the agreement check, conversion) and
records what it settled on (:func:`~deblurgan.inference.model_cache.write_verdict`). Later
runs with the same weights (by content) and the same options find that verdict and run the
converted model in OpenVINO straight away: no PyTorch import, no check, about two seconds
less per command. What the fast start does not cover goes the usual way: a GPU that may be
present, test-time dropout, fixed tiles, ``torch.compile``, other runtimes, and an image too
large for a whole-image pass (a Deblurrer is built for it on first need, with the verdict's
precision).

Examples:
    >>> fast_start_request("cpu", "auto", "auto", stochastic=True, tile=None, compile=False)
    >>> fast_start_request("cpu", "auto", "auto", stochastic=False, tile=None, compile=False)
    {'device': 'cpu', 'precision': 'auto', 'backend': 'auto'}
"""

from __future__ import annotations

import hashlib
import os
import shutil
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from deblurgan.extras import MissingExtraError, missing_packages
from deblurgan.hardware import gpu_may_be_visible
from deblurgan.inference.model_cache import (
    BIN,
    XML,
    Verdict,
    cache_dir,
    discard_verdict,
    model_path,
    read_model_files,
    read_verdict,
    write_verdict,
)
from deblurgan.inference.openvino_runtime import compile_for_cpu, model_from_bytes
from deblurgan.inference.policy import (
    BACKENDS,
    DEFAULT_MAX_MEMORY,
    INT8_NEEDS,
    check_backend,
    check_settings,
    choose_backend,
    whole_image_peak_bytes,
)
from deblurgan.inference.weights import default_weights_path
from deblurgan.nets.padding import side_padding
from deblurgan.restoration import DeblurMethod, Restoration


def torch_installed() -> bool:
    """Whether PyTorch can be imported here (without importing it)."""
    return not missing_packages(("torch",))


def fast_start_request(
    device: str, precision: str, backend: str, stochastic: bool, tile: int | None, compile: bool
) -> dict[str, str] | None:
    """What a verdict is looked up by, or None where the options need PyTorch anyway
    (without PyTorch, ``"auto"`` is the CPU: nothing else could run the network)."""
    cpu = device == "cpu" or (
        device == "auto" and (not gpu_may_be_visible() or not torch_installed())
    )
    if not cpu or stochastic or tile is not None or compile or backend not in ("auto", "openvino"):
        return None
    if not BACKENDS["openvino"].available():
        return None
    if precision not in ("auto", "fp32", "bf16", "int8"):
        return None
    return {"device": "cpu", "precision": precision, "backend": backend}


class CachedNetwork:
    """The network as a converted OpenVINO model from the cache (see the module's text).

    Offers the :class:`~deblurgan.restoration.DeblurMethod` interface, and gives the same
    output, bit for bit, as a :class:`~deblurgan.inference.Deblurrer` running the same
    converted model.

    Args:
        compiled: The compiled OpenVINO model.
        verdict: The verdict it came from (precision, padding, memory width).
        weights: The checkpoint file, for images that need the usual path.
        label: What reports call the weights (``"bundled"`` or the path as given).
        max_memory: Bytes a whole-image pass may use; larger images are tiled in PyTorch.
        weights_sha256: The SHA-256 of the weights the verdict is for: the usual path loads
            the file only if it still has that content.
    """

    name = "network"

    def __init__(
        self,
        compiled: Any,
        verdict: Verdict,
        weights: Path,
        label: str,
        max_memory: int,
        weights_sha256: str | None = None,
    ) -> None:
        self._compiled, self._verdict, self._sha256 = compiled, verdict, weights_sha256
        self._weights, self.weights, self.max_memory = weights, label, max_memory
        self.precision, self.backend = verdict.precision, "openvino"
        self._usual: DeblurMethod | None = None

    def _fits(self, height: int, width: int) -> bool:
        need = whole_image_peak_bytes(self._verdict.channels, height, width, "openvino")
        return need <= self.max_memory

    def _usual_path(self, height: int, width: int) -> DeblurMethod:
        """A Deblurrer for images too large for a whole-image pass (imports PyTorch).

        Raises:
            MissingExtraError: PyTorch is not installed (a core install).
        """
        if self._usual is None and not torch_installed():
            need = whole_image_peak_bytes(self._verdict.channels, height, width, "openvino")
            raise MissingExtraError(
                f"deblurring a {width}x{height} image in tiles (about {need / 2**30:.1f} GiB "
                f"in one pass, over the {self.max_memory / 2**30:.1f} GiB of --max-memory)",
                "torch",
            )
        if self._usual is None:
            from deblurgan.inference.deblurrer import Deblurrer

            data = self._weights.read_bytes()
            if self._sha256 is not None and hashlib.sha256(data).hexdigest() != self._sha256:
                raise ValueError(
                    f"{self._weights} changed since this run loaded it; run again to use "
                    "the new weights"
                )
            self._usual = Deblurrer.from_checkpoint(
                self._weights,
                data=data,
                device="cpu",
                precision=self.precision,
                backend="openvino",
                max_memory=self.max_memory,
            )
        return self._usual

    def run_whole(self, rgb: np.ndarray) -> np.ndarray:
        """Deblur one ``(H, W, 3)`` image in one pass, whatever the memory budget.

        Shape:
            - Input: :math:`(H, W, 3)` in [0, 1]; output the same, float32.
        """
        height, width = rgb.shape[:2]
        rows, cols, mode = side_padding(
            height, width, self._verdict.multiple, self._verdict.min_side
        )
        x = np.ascontiguousarray(rgb, dtype=np.float32).transpose(2, 0, 1) * 2 - 1
        x = np.ascontiguousarray(np.pad(x, ((0, 0), rows, cols), mode=mode)[None])
        out = self._compiled(x)[0][0]
        out = out[:, rows[0] : rows[0] + height, cols[0] : cols[0] + width]
        return np.clip((out.transpose(1, 2, 0) + 1.0) * 0.5, 0.0, 1.0).astype(np.float32)

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """Deblur one RGB image in [0, 1], or a stack of same-size images.

        Shape:
            - Input: :math:`(H, W, 3)` or :math:`(N, H, W, 3)`; output the input's shape.
        """
        if rgb.ndim not in (3, 4) or rgb.shape[-1] != 3:
            raise ValueError(f"expected an (H, W, 3) or (N, H, W, 3) RGB array, got {rgb.shape}")
        if not self._fits(*rgb.shape[-3:-1]):
            return self._usual_path(*rgb.shape[-3:-1])(rgb)
        return (
            self.run_whole(rgb) if rgb.ndim == 3 else np.stack([self.run_whole(im) for im in rgb])
        )

    def restore(self, rgb: np.ndarray) -> Restoration:
        """Deblur one ``(H, W, 3)`` image (the method interface)."""
        return Restoration(self(rgb))

    def settings(self) -> dict[str, Any]:
        """What a report records about the model and runtime (as a Deblurrer's)."""
        return {
            "method": self.name,
            "weights": self.weights,
            "device": "cpu",
            "precision": self.precision,
            "backend": self.backend,
            "stochastic": False,
            "compiled": False,
        }


def load_network(
    weights: str | os.PathLike | None = None,
    device: str = "auto",
    precision: str = "auto",
    backend: str = "auto",
    stochastic: bool = False,
    seed: int = 0,
    tile: int | None = None,
    max_memory: int | None = None,
    compile: bool = False,
) -> DeblurMethod:
    """The network as a deblurring method: from the cache without PyTorch when an earlier run
    on this machine recorded a verdict for these weights and options, else a
    :class:`~deblurgan.inference.Deblurrer` (whose verdict is then recorded). Where PyTorch is
    not installed (a core install), the bundled model runs from its shipped OpenVINO
    conversion (:func:`~deblurgan.inference.bundled_ir.bundled_network`).

    Args: as :class:`~deblurgan.inference.Deblurrer` and its ``from_checkpoint``
        (``weights`` None: the bundled model; ``max_memory`` None: the default).

    Raises:
        CheckpointError: The weights cannot be loaded.
        MissingExtraError: The options need PyTorch, which is not installed (the message
            says which extra to install).
        ValueError: An option is not valid here.
    """
    asked_memory, max_memory = max_memory, max_memory or DEFAULT_MAX_MEMORY
    request = fast_start_request(device, precision, backend, stochastic, tile, compile)
    found = _weights_file(weights) if request is not None else None
    if found is not None:
        cached = _from_cache(found[0], found[1], request, weights, max_memory)
        if cached is not None:
            return cached
    if not torch_installed():
        if weights is None and request is not None:
            from deblurgan.inference.bundled_ir import bundled_network

            return bundled_network(precision, asked_memory)
        raise MissingExtraError(
            "running your own --weights the first time (they are converted with PyTorch)"
            if weights is not None
            else _network_with(device, precision, backend, stochastic, tile, compile),
            "torch",
        )
    from deblurgan.inference.deblurrer import Deblurrer

    deblurrer = Deblurrer.from_checkpoint(
        weights,
        data=found[2] if found is not None else None,  # the bytes hashed: no second read
        device=device,
        precision=precision,
        stochastic=stochastic,
        seed=seed,
        tile=tile,
        backend=backend,
        max_memory=max_memory,
        compile=compile,
    )
    if found is not None and deblurrer.backend == "openvino":
        _remember(found[1], request, deblurrer)
    return deblurrer


def check_network_options(
    device: str = "auto",
    precision: str = "auto",
    backend: str = "auto",
    stochastic: bool = False,
    tile: int | None = None,
    compile: bool = False,
) -> None:
    """Refuse options that :func:`load_network` would refuse, without loading the network:
    how ``--method auto``, which loads it only for a photo that needs it, refuses them
    before its first photo. PyTorch is imported only to check a device, precision or
    backend that the fast start does not cover (and that needs PyTorch to run anyway).

    Raises:
        MissingExtraError: The options need PyTorch, which is not installed.
        ValueError: An option is not valid here (as :class:`~deblurgan.inference.Deblurrer`
            says it).
    """
    check_settings(stochastic, tile, compile, backend)
    if fast_start_request(device, precision, backend, stochastic, tile, compile) is not None:
        return  # the CPU, in a precision and runtime that OpenVINO runs
    if not torch_installed():
        raise MissingExtraError(
            _network_with(device, precision, backend, stochastic, tile, compile), "torch"
        )
    if device == precision == backend == "auto":
        return  # each resolves to what runs here
    from deblurgan.runtime import check_precision, resolve_device

    resolved = resolve_device(device)
    checked = "fp32"  # precision="auto" ends at fp32, which every runtime runs
    if precision != "auto":
        with warnings.catch_warnings():  # a slow precision is warned about when it runs
            warnings.simplefilter("ignore")
            checked = check_precision(precision, resolved)
    if backend != "auto":
        check_backend(backend, resolved.type, checked, stochastic)
    elif checked == "int8" and choose_backend(resolved.type, "int8", stochastic) != "openvino":
        raise ValueError(INT8_NEEDS)


def _network_with(
    device: str, precision: str, backend: str, stochastic: bool, tile: int | None, compile: bool
) -> str:
    """The network with these options, in words (what needs PyTorch)."""
    return (
        f"the network with device={device!r}, precision={precision!r}, backend={backend!r}"
        + ", stochastic" * stochastic
        + ", tiles" * (tile is not None)
        + ", compile" * compile
    )


def _weights_file(weights: str | os.PathLike | None) -> tuple[Path, str, bytes] | None:
    """The checkpoint file, the SHA-256 of its content and that content, read once: what is
    hashed is what is loaded, even if the file is replaced meanwhile. None where it cannot be
    read (the usual path then says why)."""
    try:
        path = Path(weights) if weights is not None else default_weights_path()
        data = path.read_bytes()
    except (OSError, ValueError):  # ValueError: CheckpointError, no bundled model
        return None
    return path, hashlib.sha256(data).hexdigest(), data


def _from_cache(
    path: Path, digest: str, request: dict, weights: Any, max_memory: int
) -> CachedNetwork | None:
    verdict = read_verdict(digest, request)
    folder = model_path(verdict.model) if verdict is not None else None
    if folder is None:
        return None
    files = read_model_files(folder)  # checked from the bytes that run
    if files is None or XML not in files or BIN not in files:
        discard_verdict(digest, request)
        return None
    try:
        compiled = compile_for_cpu(model_from_bytes(files[XML], files[BIN]), verdict.precision)
    except RuntimeError:  # a model OpenVINO cannot read or compile: convert it again
        shutil.rmtree(folder, ignore_errors=True)  # inside the cache (model_path)
        discard_verdict(digest, request)
        return None
    label = str(weights) if weights is not None else "bundled"
    return CachedNetwork(compiled, verdict, path, label, max_memory, digest)


def _remember(digest: str, request: dict, deblurrer: Any) -> None:
    """Record the verdict of a Deblurrer that runs a cached OpenVINO model."""
    from deblurgan.inference.openvino_backend import model_folder

    generator = deblurrer.generator
    folder = model_folder(generator, deblurrer.precision)
    if folder.parent == cache_dir() and (folder / XML).is_file():
        verdict = Verdict(
            model=folder.name,
            precision=deblurrer.precision,
            agreement_db=deblurrer.agreement_db,
            channels=int(generator.full_resolution_channels),
            multiple=int(generator.size_multiple),
            min_side=int(generator.min_side),
        )
        write_verdict(digest, request, verdict)
