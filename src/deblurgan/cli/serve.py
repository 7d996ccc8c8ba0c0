"""Serve a local web page to deblur photos and videos without the terminal."""

from __future__ import annotations

import argparse
import errno
import functools
import socket
import sys
from pathlib import Path

from deblurgan.cli.options import byte_size
from deblurgan.extras import MissingExtraError, missing_packages, needs
from deblurgan.hardware import gpu_may_be_visible
from deblurgan.inference.policy import BACKENDS, offered_precisions
from deblurgan.io.images import DEFAULT_MAX_PIXELS

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``deblurgan serve`` options to ``parser``."""
    parser.epilog = (
        "The page takes photos (JPEG, PNG, TIFF, WebP, GIF, BMP, and iPhone HEIC/HEIF, read "
        "with the pillow-heif package of the serve extra; their results are written as JPEG) "
        "and videos. Each job runs in a separate process, so Cancel stops it within seconds."
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on; anything but this computer shows a warning",
    )
    parser.add_argument("--port", type=int, default=8000, help="port to listen on")
    parser.add_argument(
        "--weights",
        action="append",
        default=[],
        metavar="[NAME=]PATH",
        help="offer this generator checkpoint on the page beside the bundled model "
        "(repeatable; models are never uploaded)",
    )
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    parser.add_argument(
        "--precision",
        choices=["auto", "fp32", "bf16", "fp16", "int8"],
        default=None,
        help="the page's default precision (default: auto, as deblurgan deblur; the page also "
        "offers fp32, and int8/bf16/fp16 where they are fast: VNNI or native-bf16 CPUs, GPUs)",
    )
    parser.add_argument(
        "--backend",
        choices=["auto", *BACKENDS],
        default="auto",
        help="runtime of whole images (see deblurgan deblur)",
    )
    parser.add_argument(
        "--max-upload",
        type=byte_size,
        default=512 * 2**20,
        metavar="SIZE",
        help="largest upload accepted, e.g. 2GiB; larger ones get HTTP 413 (default: 512 MiB)",
    )
    parser.add_argument(
        "--max-pixels",
        type=int,
        default=DEFAULT_MAX_PIXELS,
        metavar="N",
        help="largest image accepted, in pixels (default: Pillow's limit)",
    )


def model_table(specs: list[str]) -> dict[str, str | None]:
    """``{"bundled": None, NAME: PATH, ...}`` from ``[NAME=]PATH`` items."""
    models: dict[str, str | None] = {"bundled": None}
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep:
            name, path = Path(spec).stem, spec
        if not Path(path).is_file():
            raise ValueError(f"--weights {spec}: no such file")
        models[name] = path
    return models


def device_type(device: str) -> str:
    """The type of ``--device`` (``"cpu"``, ``"cuda"``, ``"mps"``), checked; PyTorch is asked
    only where a GPU could be in sight: without it, or without a GPU, ``"auto"`` is the CPU
    (the bundled model then runs on OpenVINO).

    Raises:
        ValueError: The device does not exist here, or needs PyTorch, which is missing.
    """
    torch_missing = bool(missing_packages(("torch",)))
    if device == "cpu" or (device == "auto" and (torch_missing or not gpu_may_be_visible())):
        return "cpu"
    if torch_missing:
        raise MissingExtraError(f"--device {device}", "torch")
    from deblurgan.runtime import resolve_device

    return resolve_device(device).type


def check_models(models: dict[str, str | None]) -> None:
    """Refuse bad checkpoints at start, not on the first upload (the bundled model is
    checked when it is built: it needs no PyTorch).

    Raises:
        ValueError: A checkpoint is not one, or PyTorch, which reads them, is missing.
    """
    own = [path for path in models.values() if path is not None]
    if not own:
        return
    if missing_packages(("torch",)):
        raise MissingExtraError("your own --weights", "torch")
    from deblurgan.checkpoint import load_generator

    for path in own:
        load_generator(path)


def check_port(host: str, port: int) -> None:
    """Refuse a ``--host``/``--port`` that cannot be listened on (the port in use, say) before
    the page's address is printed: each address ``host`` names is bound as the server will.

    Raises:
        ValueError: One line naming the port, the cause and ``--port`` (or ``--host``).
    """
    if not 0 < port < 65536:
        raise ValueError(f"--port {port}: ports are 1 to 65535")
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as err:
        raise ValueError(f"--host {host}: not an address of this computer ({err})") from err
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as probe:
            if hasattr(socket, "SO_REUSEADDR") and sys.platform != "win32":
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as asyncio does
            if family == socket.AF_INET6 and hasattr(socket, "IPV6_V6ONLY"):
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                probe.bind(address)
            except OSError as err:
                if err.errno == errno.EADDRINUSE:
                    raise ValueError(
                        f"port {port} is already in use on {host} (another server?): choose "
                        f"another with --port, e.g. --port {port + 1}"
                    ) from err
                raise ValueError(
                    f"cannot listen on {host} port {port}: {err.strerror or err}; choose another "
                    "--host or --port"
                ) from err


def run(args: argparse.Namespace) -> int:
    """Run ``deblurgan serve`` with parsed ``args``; returns the exit status."""
    try:
        import uvicorn

        from deblurgan.serve.app import ServeSettings, create_app
        from deblurgan.serve.jobs import JobQueue
        from deblurgan.serve.runner import build_job_method
    except ModuleNotFoundError as err:
        print(
            f"deblurgan serve: error: {needs('the web page', err.name, 'serve')}", file=sys.stderr
        )
        return 2
    from deblurgan.methods import METHODS, MethodOptions

    try:
        models = model_table(args.weights)
        precisions = offered_precisions(device_type(args.device), args.precision)
        check_models(models)
        check_port(args.host, args.port)  # before the address is printed
    except ValueError as err:
        print(f"deblurgan serve: error: {err}", file=sys.stderr)
        return 2

    base = MethodOptions(device=args.device, backend=args.backend)
    make_deblurrer = functools.partial(build_job_method, base, models)
    settings = ServeSettings(
        models,
        precisions,
        args.max_upload,
        args.max_pixels,
        host=args.host,
        port=args.port,
        methods=tuple(METHODS),
    )
    app = create_app(JobQueue(make_deblurrer, args.max_pixels, isolate=True), settings)
    if args.host not in LOOPBACK:
        print(
            f"warning: listening on {args.host}: other computers can reach this page and "
            "use this computer to deblur",
            file=sys.stderr,
        )
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"deblurgan: open http://{host}:{args.port}/ in a browser (Ctrl-C stops)", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    print("deblurgan: stopped", flush=True)  # Ctrl-C or SIGTERM: the page and its worker
    return 0
