"""The suite leaves the user's home folder alone and never forks its own process (conftest.py
gives it a temporary home, declines OpenVINO's usage statistics there, and watches both)."""

import os
import pwd
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import REAL_HOME, _session, home_changes, home_snapshot, record_fork

IMPORT_AS_TEST_MODULES_DO = """
import os, threading, time
forks = []
os.register_at_fork(before=lambda: forks.append(threading.current_thread().name))
import openvino, nncf
time.sleep(2)  # usage statistics are sent from a thread pool, a moment after the import
print(forks)
"""


def test_the_suite_runs_with_a_temporary_home_and_cache():
    account_home = Path(pwd.getpwuid(os.getuid()).pw_dir)
    home = Path.home()
    assert home not in (account_home, REAL_HOME)
    assert Path(os.path.expanduser("~")) == home
    for name in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "DEBLURGAN_CACHE"):
        assert Path(os.environ[name]).is_relative_to(home), name


def test_importing_openvino_as_test_modules_do_writes_nothing_and_does_not_fork():
    pytest.importorskip("openvino")
    pytest.importorskip("nncf")
    before = home_snapshot(REAL_HOME)
    # A fresh interpreter with the suite's environment. With usage statistics accepted (no
    # consent file: OpenVINO's default), each import sends them from a worker thread through
    # a forked copy of the process, and writes a client ID and statistics to ~/intel.
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_AS_TEST_MODULES_DO],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert not (Path.home() / "intel" / "openvino_ga_cid").exists()
    assert not (Path.home() / "intel" / "stats").exists()
    assert home_changes(before, home_snapshot(REAL_HOME)) == []


def test_a_fork_of_the_test_process_is_recorded_with_its_thread():
    count = len(_session["forks"])
    record_fork()  # what os.fork() calls first in this process
    try:
        assert len(_session["forks"]) == count + 1
        assert _session["forks"][-1].startswith("fork from thread 'MainThread':")
        assert "test_a_fork_of_the_test_process_is_recorded" in _session["forks"][-1]
    finally:
        del _session["forks"][count:]


def test_a_fork_from_a_worker_thread_is_recorded_with_that_thread():
    # How OpenVINO's usage statistics forked: from a thread pool, while the main thread worked.
    count = len(_session["forks"])
    with ThreadPoolExecutor(1, thread_name_prefix="telemetry-sender") as pool:
        pool.submit(record_fork).result()
    try:
        assert len(_session["forks"]) == count + 1
        assert _session["forks"][-1].startswith("fork from thread 'telemetry-sender_0':")
    finally:
        del _session["forks"][count:]


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
