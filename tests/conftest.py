"""Shared fixtures: tiny networks and the path of ../shared (tests that need it skip without it).

The suite runs with a temporary home folder (``HOME``, the XDG folders and
``DEBLURGAN_CACHE`` point into it, from before any test module is imported), in
which OpenVINO's usage statistics are declined; at the end, the session fails if
anything appeared in the real home folder, or if the test process forked. A fork from
one thread while another works can hang or crash the process: ``fork()`` first runs
OpenBLAS's pre-fork handler in the parent, which stops OpenBLAS's threads, and with
the main thread inside a threaded NumPy/SciPy call the process deadlocks
(``__libc_fork`` -> ``blas_thread_shutdown_``; OpenBLAS issues 2270 and 3111, the
latter a crash); the child also inherits torch's OpenMP and OpenVINO's TBB pools in
whatever state they are in. OpenVINO's and NNCF's usage statistics forked like that,
from a worker thread, until the temporary home declined them. Run other processes
with ``subprocess`` (vfork and exec: no pre-fork handlers) or the ``spawn`` start method.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
import threading
import traceback
from pathlib import Path
from types import ModuleType

import pytest
import torch

from deblurgan.detection.darknet import load_darknet
from deblurgan.nets import Generator, init_weights

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
REAL_HOME = Path.home()  # read at import, before pytest_configure replaces HOME
# Where the libraries the suite uses keep state in a home folder: OpenVINO's telemetry client
# ID and statistics, our converted models, Matplotlib's and PyTorch's caches.
HOME_STATE = (
    "intel",
    ".cache/deblurgan",
    ".cache/matplotlib",
    ".config/matplotlib",
    ".cache/torch",
)
ISOLATED_ENV = ("HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "DEBLURGAN_CACHE")
_session: dict = {}


def home_snapshot(home: Path) -> dict[str, tuple[int, int]]:
    """``{path: (size, mtime_ns)}`` of the top-level entries of ``home`` and of every file
    and folder under :data:`HOME_STATE`: what the suite could leave in a home folder."""
    entries = list(home.iterdir()) if home.is_dir() else []
    for name in HOME_STATE:
        entries += (home / name).rglob("*") if (home / name).is_dir() else []
    snapshot = {}
    for path in entries:
        try:
            info = path.lstat()
        except OSError:  # removed meanwhile
            continue
        snapshot[str(path.relative_to(home))] = (info.st_size, info.st_mtime_ns)
    return snapshot


def home_changes(before: dict, after: dict) -> list[str]:
    """Entries of ``after`` that are new or changed since ``before``, sorted."""
    return sorted(path for path, stat in after.items() if before.get(path) != stat)


def record_fork() -> None:
    """``os.register_at_fork(before=...)``: note a fork of the test process, by whom."""
    if _session.get("pid") == os.getpid():
        thread = threading.current_thread().name
        stack = "".join(traceback.format_stack(limit=6)[:-1])
        _session["forks"].append(f"fork from thread {thread!r}:\n{stack}")


def pytest_configure(config: pytest.Config) -> None:
    """Point the home and cache folders into a temporary folder, with OpenVINO's usage
    statistics declined there, before test modules import OpenVINO; watch for forks."""
    _session.update(pid=os.getpid(), forks=[])
    os.register_at_fork(before=record_fork)
    home = Path(tempfile.mkdtemp(prefix="deblurgan-tests-home-"))
    (home / "intel").mkdir()
    (home / "intel" / "openvino_telemetry").write_text("0")  # consent file: declined
    _session.update(
        home=home,
        environ={name: os.environ.get(name) for name in ISOLATED_ENV},
        before=home_snapshot(REAL_HOME),
    )
    os.environ.update(
        HOME=str(home),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        DEBLURGAN_CACHE=str(home / ".cache" / "deblurgan"),
    )
    # PyTorch computes on one thread in this process. The tests' networks are tiny (widths of
    # 4-16, crops of 32-64 px) and a second intra-op thread only adds synchronisation; where
    # another job shares the 2 cores, each parallel region also waits for the descheduled
    # thread: the critic-training test took 270 s instead of 16 s. Results are the same (every
    # check passes either way); processes the tests start keep PyTorch's default.
    torch.set_num_threads(1)


def pytest_unconfigure(config: pytest.Config) -> None:
    for name, value in _session.get("environ", {}).items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    if "home" in _session:
        shutil.rmtree(_session["home"], ignore_errors=True)


@pytest.fixture(autouse=True, scope="session")
def _real_home_untouched_and_no_forks():
    """Fail the session if the tests wrote anything into the real home folder, or forked."""
    yield
    if _session["forks"]:
        pytest.fail(
            f"the test process forked {len(_session['forks'])} times; the first: "
            f"{_session['forks'][0]}"
        )
    changed = home_changes(_session["before"], home_snapshot(REAL_HOME))
    if changed:
        pytest.fail(
            f"the real home folder {REAL_HOME} changed while the tests ran (written by a test, "
            f"or by another process of this user meanwhile): {', '.join(changed)}"
        )


@pytest.fixture
def shared() -> Path:
    """The project's ../shared folder; the test is skipped when it is absent."""
    if not (SHARED / "data").is_dir():
        pytest.skip("../shared/data is not available")
    return SHARED


@pytest.fixture(scope="session")
def ship_rule() -> ModuleType:
    """`benchmarks/generalization.py`, the home of the ship rule the tests check."""
    script = REPO / "benchmarks" / "generalization.py"
    spec = importlib.util.spec_from_file_location("generalization_script", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def tiny_generator() -> Generator:
    """A randomly initialised, very narrow generator (deterministic weights)."""
    net = Generator(ngf=4, n_blocks=1)
    init_weights(net, generator=torch.Generator().manual_seed(0))
    return net.eval()


@pytest.fixture
def identity_generator() -> Generator:
    """A tiny generator whose residual branch is zero, so it returns its input (the same
    weights every time: a model converted in one test is found in the cache by the next)."""
    net = Generator(ngf=4, n_blocks=1)
    init_weights(net, generator=torch.Generator().manual_seed(0))
    torch.nn.init.zeros_(net.head.weight)
    torch.nn.init.zeros_(net.head.bias)
    return net.eval()


@pytest.fixture(scope="module")
def yolo(request):
    """YOLOv3-tiny from ../shared: (model, parameter count, class names, folder)."""
    root = request.config.rootpath.parent / "shared" / "weights" / "yolov3-tiny"
    if not (root / "yolov3-tiny.weights").is_file():
        pytest.skip("../shared/weights/yolov3-tiny is not available")
    model, count = load_darknet(root / "yolov3-tiny.cfg", root / "yolov3-tiny.weights")
    return model, count, (root / "coco.names").read_text().split("\n"), root
