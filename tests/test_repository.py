"""Facts about the repository a newcomer relies on: the quick start's files and outputs, and
which tests the README's test command (and so CI) runs."""

import ast
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(
    shutil.which("git") is None or not (ROOT / ".git").exists(), reason="not a git checkout"
)
def test_quick_start_output_is_ignored_by_git():
    readme = (ROOT / "README.md").read_text()
    assert "-o out/" in readme
    ignored = subprocess.run(["git", "check-ignore", "-q", "out/blurry_coffee.jpg"], cwd=ROOT)
    assert ignored.returncode == 0


def test_readme_names_the_cpu_only_torch_index():
    readme = (ROOT / "README.md").read_text()
    assert "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu" in readme
    assert (ROOT / "examples" / "blurry_coffee.jpg").is_file()


def _slow_tests() -> set[str]:
    """``path::name`` of the test functions decorated ``@pytest.mark.slow``."""
    found = set()
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and any(
                ast.unparse(d) == "pytest.mark.slow" for d in node.decorator_list
            ):
                found.add(f"{path.relative_to(ROOT).as_posix()}::{node.name}")
    return found


def test_the_slow_marker_is_registered_and_left_out_of_the_default_run(pytestconfig):
    # As pytest read pyproject.toml's [tool.pytest.ini_options] for this run.
    assert any(marker.startswith("slow:") for marker in pytestconfig.getini("markers"))
    addopts = pytestconfig.getini("addopts")
    assert "--strict-markers" in addopts  # a misspelt marker is an error, not a new marker
    assert addopts[-2:] == ["-m", "not slow"]  # last, so that a -m given later replaces it
    slow = _slow_tests()
    ddp = "test_two_process_ddp_on_cpu_keeps_ranks_identical_and_stops_them_together"
    worker = "test_resume_with_on_the_fly_blur_in_a_worker_process"
    assert {f"tests/train/test_loop.py::{name}" for name in (ddp, worker)} <= slow


def test_ci_runs_the_readme_test_command_with_the_slow_tests():
    readme = (ROOT / "README.md").read_text()
    command = (
        'pip install torch==2.13.0 -e ".[test]" && python -m pytest -q -n 2 -m "slow or not slow"'
    )
    assert f"{command}\n" in readme  # the test command, as CI runs it
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    runs = [line for line in ci if "pytest" in line and not line.lstrip().startswith("#")]
    assert runs == [command]  # every test, the slow ones included
