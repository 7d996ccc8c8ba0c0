"""Facts about the repository a newcomer relies on: the quick start's files and outputs."""

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
