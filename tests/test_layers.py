"""The package's layers: imports flow one way, from the command line down to the basics.

    cli -> serve -> methods -> {train, inference, evaluation, detection} -> {checkpoint, data}
        -> {nets, blur, deconv} -> {io, lazy, metrics, restoration, runtime, schema, version}
        -> {hardware, extras}

A module imports its own package or a lower layer, never a higher one or a sibling.
"""

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "deblurgan"
LAYERS = [
    {"hardware", "extras"},
    {"io", "lazy", "metrics", "restoration", "runtime", "schema", "version"},
    {"nets", "blur", "deconv"},
    {"checkpoint", "data"},
    {"train", "inference", "evaluation", "detection"},
    {"methods"},
    {"serve"},
    {"cli"},
]
RANK = {part: rank for rank, parts in enumerate(LAYERS) for part in parts}


def _part(module: str) -> str:
    return module.split(".")[1]


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name == "deblurgan" or name.startswith("deblurgan.")}


def test_imports_flow_downward():
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if len(relative.parts) == 1 and relative.stem in ("__init__", "__main__"):
            continue  # the package's front door
        part = relative.parts[0].removesuffix(".py")
        assert part in RANK, f"{relative}: place {part!r} in a layer of tests/test_layers.py"
        for name in _imports(path):
            if name == "deblurgan":  # the front door imports everything: never from inside
                wrong.append(f"{relative} imports the package root")
                continue
            target = _part(name)
            if target != part and RANK[target] >= RANK[part]:
                wrong.append(f"{relative} imports {name}")
    assert not wrong, "\n".join(wrong)


def _loaded(code: str, prefixes: tuple[str, ...]) -> list[str]:
    """The modules starting with ``prefixes`` that a fresh interpreter has after ``code``."""
    check = (
        f"{code}\nimport sys; print(sorted(m for m in sys.modules if m.startswith({prefixes!r})))"
    )
    out = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True)
    return ast.literal_eval(out.stdout.strip().splitlines()[-1])


def test_training_config_loads_neither_inference_nor_openvino():
    assert _loaded("import deblurgan.train.config", ("openvino", "deblurgan.inference")) == []


def _help(argv: list[str]) -> str:
    return (
        "import contextlib, io\nfrom deblurgan.cli import main\n"
        "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        f"    main({argv!r})"
    )


def test_the_deblur_command_loads_only_what_it_runs():
    """Start-up is part of every ``deblurgan deblur``: no PyTorch (a cached model runs
    without it), blur synthesis (SciPy's signal package, numba), training, evaluation or
    other subcommands."""
    unwanted = (
        "torch",
        "scipy.signal",
        "numba",
        "deblurgan.blur",
        "deblurgan.train",
        "deblurgan.cli.",
    )
    loaded = _loaded(_help(["deblur", "--help"]), unwanted)
    assert loaded == ["deblurgan.cli.deblur", "deblurgan.cli.options"]


def test_the_top_level_help_imports_no_subcommand():
    assert _loaded(_help(["--help"]), ("torch", "numpy", "deblurgan.cli.")) == []
