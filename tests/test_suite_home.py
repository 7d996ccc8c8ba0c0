"""The suite leaves the user's home folder alone (conftest.py gives it a temporary one)."""

import os
import pwd
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REAL_HOME, home_changes, home_snapshot


def test_the_suite_runs_with_a_temporary_home_and_cache():
    account_home = Path(pwd.getpwuid(os.getuid()).pw_dir)
    home = Path.home()
    assert home not in (account_home, REAL_HOME)
    assert Path(os.path.expanduser("~")) == home
    for name in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "DEBLURGAN_CACHE"):
        assert Path(os.environ[name]).is_relative_to(home), name


def test_importing_openvino_as_test_modules_do_writes_nothing_to_a_home():
    pytest.importorskip("openvino")
    before = home_snapshot(REAL_HOME)
    # A fresh interpreter with the suite's environment: no client ID, no statistics.
    subprocess.run([sys.executable, "-c", "import openvino, nncf"], check=True, timeout=300)
    assert not (Path.home() / "intel" / "openvino_ga_cid").exists()
    assert not (Path.home() / "intel" / "stats").exists()
    assert home_changes(before, home_snapshot(REAL_HOME)) == []


def test_the_home_guard_names_new_and_changed_entries(tmp_path):
    (tmp_path / "intel").mkdir()
    (tmp_path / "intel" / "stats").write_text("1")
    (tmp_path / ".cache" / "pip").mkdir(parents=True)
    before = home_snapshot(tmp_path)
    (tmp_path / "intel" / "openvino_ga_cid").write_text("id")
    (tmp_path / "intel" / "stats").write_text("22")
    (tmp_path / "new.txt").write_text("x")
    (tmp_path / ".cache" / "pip" / "wheel").write_text("not watched")
    assert home_changes(before, home_snapshot(tmp_path)) == [
        "intel",  # a folder changes when an entry is added
        "intel/openvino_ga_cid",
        "intel/stats",
        "new.txt",
    ]
