"""The slim install: the core deblurs photos without PyTorch or any other extra, each extra is
declared in pyproject.toml, and a subcommand without its extra says which one to install.

Packages are hidden the way a core install lacks them: a ``sitecustomize`` on ``PYTHONPATH``
makes importing one raise ModuleNotFoundError and ``importlib.util.find_spec`` answer None, as
for a package that is not installed (``None`` in ``sys.modules`` would not do: SciPy takes a
``torch`` entry there for PyTorch itself).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tomllib

import deblurgan.cli as cli
from deblurgan.extras import (
    EXTRAS,
    PACKAGE_EXTRA,
    install_command,
    source_checkout,
)

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "src" / "deblurgan"
# every optional package, by importable name (the extras' and what the tests add)
OPTIONAL = sorted(
    {module for extra in EXTRAS.values() for module in extra.modules}
    | {"pillow_heif", "httpx", "selenium", "pytest"}
)
# Modules that need an extra, by the extra. Everything else is the core and must import
# with every optional package missing; this list must stay exact (a module that no longer
# needs its extra is taken off).
NEEDS_EXTRA = {
    "torch": [
        "deblurgan.checkpoint",
        "deblurgan.runtime",
        "deblurgan.inference.backends",
        "deblurgan.inference.deblurrer",
        "deblurgan.inference.export",
        "deblurgan.inference.export_check",
        "deblurgan.inference.openvino_backend",
        "deblurgan.inference.tiled",
        "deblurgan.nets.*",
        "deblurgan.detection.boxes",
        "deblurgan.detection.darknet",
        "deblurgan.detection.bench",
    ],
    "train": ["deblurgan.train.*", "deblurgan.cli.train", "deblurgan.cli.detect_bench"],
    "train or evaluate": ["deblurgan.cli.evaluate"],
    "export": ["deblurgan.cli.export"],
    "serve": ["deblurgan.serve.*"],
    "entry point": ["deblurgan.__main__"],  # runs the command line on import
}


def _all_modules() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def _needs_extra(module: str) -> bool:
    patterns = [pattern for group in NEEDS_EXTRA.values() for pattern in group]
    return any(
        module == pattern or (pattern.endswith(".*") and module.startswith(pattern[:-1]))
        for pattern in patterns
    )


HIDE = """
import importlib.abc, importlib.util, sys

HIDDEN = set({modules!r})


def _hidden(name):
    return name.partition(".")[0] in HIDDEN


class _NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if _hidden(name):
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None


_find_spec = importlib.util.find_spec


def find_spec(name, package=None):
    return None if _hidden(name) else _find_spec(name, package)


importlib.util.find_spec = find_spec
sys.meta_path.insert(0, _NotInstalled())
"""


def hiding(tmp_path: Path, modules: list[str]) -> dict[str, str]:
    """The environment of a subprocess in which ``modules`` are not installed."""
    folder = tmp_path / "hide"
    folder.mkdir(exist_ok=True)
    (folder / "sitecustomize.py").write_text(HIDE.format(modules=sorted(modules)))
    path = os.pathsep.join(filter(None, [str(folder), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path}


IMPORT_ALL = """
import importlib, json, sys, traceback
failed = {}
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except Exception as err:
        failed[name] = f"{type(err).__name__}: {err}"
print(json.dumps(failed))
"""


def test_every_core_module_imports_with_every_optional_package_missing(tmp_path):
    modules = [name for name in _all_modules() if name != "deblurgan.__main__"]
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL, *modules],
        env=hiding(tmp_path, OPTIONAL),
        capture_output=True,
        text=True,
        check=True,
    )
    failed = json.loads(done.stdout.strip().splitlines()[-1])
    core_failures = {name: why for name, why in failed.items() if not _needs_extra(name)}
    assert not core_failures, "core modules that need an optional package:\n" + "\n".join(
        f"{name}: {why}" for name, why in core_failures.items()
    )
    listed_but_fine = [
        pattern
        for group in NEEDS_EXTRA.values()
        for pattern in group
        if not pattern.endswith(".*") and pattern in modules and pattern not in failed
    ]
    assert not listed_but_fine, f"these import without extras now: {listed_but_fine}"


def _pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


def _name(requirement: str) -> str:
    for stop in "<>=![ ;":
        requirement = requirement.split(stop)[0]
    return requirement.strip().lower()


# importable name -> distribution name, where they differ
DISTRIBUTIONS = {
    "skimage": "scikit-image",
    "av": "av",
    "multipart": "python-multipart",
    "material": "mkdocs-material",
    "pillow_heif": "pillow-heif",
}


def test_the_core_pulls_no_optional_package_and_never_pytorch():
    core = {_name(requirement) for requirement in _pyproject()["dependencies"]}
    optional = {DISTRIBUTIONS.get(module, module) for module in OPTIONAL} - {"pytest"}
    assert "torch" not in core
    assert not core & optional, core & optional


def test_every_extra_is_declared_and_the_test_extra_has_everything():
    declared = _pyproject()["optional-dependencies"]
    assert set(EXTRAS) <= set(declared)

    def closure(extra: str) -> set[str]:
        names = set()
        for requirement in declared[extra]:
            name = _name(requirement)
            if name == "deblurgan":
                inner = requirement.split("[")[1].split("]")[0].split(",")
                names |= set().union(*(closure(group.strip()) for group in inner))
            else:
                names.add(name)
        return names

    for extra, described in EXTRAS.items():
        brought = closure(extra)
        for module in described.modules:
            assert DISTRIBUTIONS.get(module, module) in brought, (extra, module)
    tested = closure("test")
    for extra in set(EXTRAS) - {"docs"}:
        assert closure(extra) <= tested, extra


@pytest.mark.parametrize("command", sorted(cli.NEEDS))
def test_a_subcommand_without_its_extra_prints_one_line_and_exits_2(command, monkeypatch, capsys):
    extra, modules = cli.NEEDS[command]
    monkeypatch.setattr(cli, "missing_packages", lambda names: list(names))
    imported = []
    monkeypatch.setattr(cli.importlib, "import_module", lambda name: imported.append(name))
    assert cli.main([command, "--help"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and imported == []  # before any work
    assert len(err.strip().splitlines()) == 1
    assert f"install deblurgan[{extra}" in err and f"deblurgan {command} needs" in err


def test_train_without_pytorch_says_install_deblurgan_train(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "deblurgan", "train", "--config", "x.yaml"],
        env=hiding(tmp_path, ["torch"]),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "deblurgan train needs PyTorch, which is not installed: install deblurgan[train] "
        f"({install_command('train', source_checkout())})"
    ]


def test_the_install_command_names_the_checkout_it_runs_from(tmp_path):
    # this suite runs from a clone (an editable install): the hint must not send its user to
    # the package index, from the clone or from anywhere else
    assert source_checkout() == REPO
    for cwd, command in ((REPO, '-e ".[train]"'), (tmp_path, f'-e "{REPO.as_posix()}[train]"')):
        done = subprocess.run(
            [sys.executable, "-m", "deblurgan", "train", "--config", "x.yaml"],
            env=hiding(tmp_path, ["torch"]),
            capture_output=True,
            text=True,
            cwd=cwd,
        )
        assert done.stderr.strip().endswith(f"(pip install {command})"), done.stderr


def test_every_optional_package_has_an_extra():
    for module in OPTIONAL:
        if module not in ("pillow_heif", "httpx", "selenium", "pytest"):
            assert module in PACKAGE_EXTRA, module


def _deblur_all(tmp_path: Path, runs: dict[str, tuple[list[str], ...]]) -> dict[str, np.ndarray]:
    """The example deblurred by the CLI once for each ``name: (hidden, *options)`` of ``runs``,
    with ``options`` and the ``hidden`` modules hidden, all the runs at once (independent
    processes, each with its own hidden modules, cache and output folder); by name. A run's
    summary, when ``-q`` is not among its options, is in ``tmp_path / name.txt``."""
    from deblurgan.io.images import read_image

    started = {}
    try:
        for name, (hidden, *options) in runs.items():
            (tmp_path / f"hide-{name}").mkdir()
            env = hiding(tmp_path / f"hide-{name}", hidden)
            env["DEBLURGAN_CACHE"] = str(tmp_path / f"cache-{name}")
            started[name] = subprocess.Popen(
                [sys.executable, "-m", "deblurgan", "deblur"]
                + [str(REPO / "examples/blurry_coffee.jpg"), "-o", str(tmp_path / name), *options],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                cwd=tmp_path,
            )
        for name, run in started.items():
            stdout, stderr = run.communicate()
            assert run.returncode == 0, stderr[-3000:]
            (tmp_path / f"{name}.txt").write_text(stdout)
    finally:  # runs still going after a failure are ended
        for run in started.values():
            run.kill()
            run.wait()
    return {name: read_image(tmp_path / name / "blurry_coffee.jpg").rgb for name in runs}


@pytest.mark.slow
def test_the_core_deblurs_the_example_with_the_network_as_the_full_install(tmp_path):
    fp32 = ("-q", "--method", "network", "--precision", "fp32")
    out = _deblur_all(
        tmp_path,
        {
            "core-fp32": (OPTIONAL, *fp32),
            "full-fp32": ([], *fp32),
            "core-auto": (OPTIONAL, "-q", "--method", "network"),
        },
    )
    core, full = out["core-fp32"], out["full-fp32"]
    difference = np.abs(np.rint(core * 255) - np.rint(full * 255))
    assert difference.max() <= 1 and (difference > 0).mean() < 0.01
    from deblurgan.inference.policy import eight_bit_psnr

    assert eight_bit_psnr(out["core-auto"], full) >= 40  # int8's agreement on real photos


@pytest.mark.slow
def test_the_core_deblurs_the_example_with_l0_bit_identically(tmp_path):
    out = _deblur_all(
        tmp_path,
        {"core-l0": (OPTIONAL, "-q", "--method", "l0"), "full-l0": ([], "-q", "--method", "l0")},
    )
    np.testing.assert_array_equal(out["core-l0"], out["full-l0"])


@pytest.mark.slow
def test_the_readme_command_visibly_deblurs_the_example_on_the_core(tmp_path):
    # README's first command: the default method (auto) on the core install takes the
    # example's camera shake for what it is and removes it
    from deblurgan.io.images import read_image

    blurry = read_image(REPO / "examples/blurry_coffee.jpg").rgb
    sharp = _deblur_all(tmp_path, {"core-default": (OPTIONAL,)})["core-default"]
    summary = (tmp_path / "core-default.txt").read_text()
    assert "blurry_coffee.jpg: uniform camera shake, kernel" in summary, summary
    detail = [float(np.abs(np.diff(image.mean(2), axis=1)).mean()) for image in (blurry, sharp)]
    assert sharp.shape == blurry.shape and detail[1] > 2 * detail[0]  # 2.7x when written


def test_own_weights_without_pytorch_say_which_extra(tmp_path):
    weights = tmp_path / "mine.safetensors"
    weights.write_bytes(b"not yet converted")
    env = hiding(tmp_path, OPTIONAL)
    env["DEBLURGAN_CACHE"] = str(tmp_path / "cache")
    done = subprocess.run(
        [sys.executable, "-m", "deblurgan", "deblur", str(REPO / "examples/blurry_coffee.jpg")]
        + ["-o", str(tmp_path / "out"), "--weights", str(weights)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "install deblurgan[torch]" in done.stderr and "Traceback" not in done.stderr


SERVE = """
import sys, time
import uvicorn
from fastapi.testclient import TestClient
from deblurgan.cli import main

apps = []
uvicorn.run = lambda app, **kwargs: apps.append(app)
assert main(["serve"]) == 0
with TestClient(apps[0], base_url="http://127.0.0.1:8000") as client:
    photo = ("photo.jpg", open(sys.argv[1], "rb").read())
    (job,) = client.post("/api/jobs", data={"method": "network"}, files={"files": photo}).json()
    deadline = time.time() + 120
    while job["status"] in ("queued", "running") and time.time() < deadline:
        time.sleep(0.1)
        job = client.get(f"/api/jobs/{job['id']}").json()
    result = client.get(f"/api/jobs/{job['id']}/result")
    print(job["status"], result.status_code, result.content[:2] == b"\\xff\\xd8")
"""


@pytest.mark.slow
def test_the_web_page_deblurs_without_pytorch(tmp_path):
    # the core and the serve extra: the bundled model on OpenVINO, in the job's own process
    hidden = [m for m in OPTIONAL if m not in EXTRAS["serve"].modules + ("httpx",)]
    env = hiding(tmp_path, hidden)
    env["DEBLURGAN_CACHE"] = str(tmp_path / "cache")
    example = str(REPO / "examples/blurry_coffee.jpg")
    done = subprocess.run(
        [sys.executable, "-c", SERVE, example], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines()[-1].split() == ["done", "200", "True"], done.stdout
    weights = tmp_path / "mine.safetensors"
    weights.write_bytes(b"not yet converted")
    done = subprocess.run(
        [sys.executable, "-m", "deblurgan", "serve", "--weights", str(weights)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "your own --weights needs PyTorch" in done.stderr
    assert "install deblurgan[torch]" in done.stderr
