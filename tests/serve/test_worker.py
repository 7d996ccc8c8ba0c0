"""Cancel that cancels: a job that ignores the cancel (one long call, as the network's) is
stopped within seconds by killing its worker process, and the next job starts; a method that
reports stages stops at the next one, in the queue's thread or in the worker (which lives
on); a job is seen finished only once its files are settled, and a file that cannot be
deleted does not stop the queue; a worker that dies fails its job in plain words and the
queue goes on."""

import io
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from deblurgan.serve.jobs import JobOptions, JobQueue
from deblurgan.serve.words import STOPPED

from . import models
from .conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


def _photo(folder, name, seed=0):
    pixels = np.random.default_rng(seed).integers(0, 256, (40, 60, 3), np.uint8)
    path = folder / name
    Image.fromarray(pixels).save(path)
    return path


def _until(condition, timeout, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return False


@pytest.fixture
def isolated(tmp_path):
    queue = JobQueue(models.make, workdir=tmp_path, isolate=True)
    yield queue, tmp_path
    queue.close()
    assert not queue.folder.exists()


@pytest.mark.slow  # a worker process starts (about 5 s)
def test_a_job_that_ignores_the_cancel_is_killed_and_the_next_one_runs(isolated):
    queue, tmp_path = isolated
    stuck = queue.submit("stuck.png", _photo(queue.folder, "a.png"), JobOptions("network"))
    staged = queue.submit("next.png", _photo(queue.folder, "b.png", 1), JobOptions("l0"))
    assert _until(lambda: stuck.public()["stage"] == "deblurring", 60)  # in its 60 s call
    asked = time.monotonic()
    assert queue.cancel(stuck.id)
    assert stuck.public()["cancelling"] is True  # said at once
    assert _until(lambda: stuck.status == "cancelled", 5)
    assert time.monotonic() - asked < 5
    assert _until(lambda: staged.status != "queued", 5)  # the next job starts
    assert _until(lambda: staged.status == "done", 60)
    public = staged.public()
    assert public["found"] == "Camera shake found (about 21 pixels of shake) and removed."
    assert public["decision"] == "uniform shake, kernel 21 px"


@pytest.mark.slow  # a worker process starts (about 5 s)
def test_a_method_with_stages_stops_at_the_next_one_and_its_worker_lives_on(isolated):
    queue, tmp_path = isolated
    first = queue.submit("a.png", _photo(queue.folder, "a.png"), JobOptions("l0"))
    assert _until(lambda: (first.public()["progress"] or 0) > 0.05, 60)
    state = first.public()
    assert state["basis"] == "stages" and state["stage"] == "estimating the blur"
    worker = queue._runner._process.pid
    queue.cancel(first.id)
    assert _until(lambda: first.status == "cancelled", 1.0)  # well before the kill
    second = queue.submit("b.png", _photo(queue.folder, "b.png", 1), JobOptions("l0"))
    assert _until(lambda: second.status == "done", 60)
    assert queue._runner._process.pid == worker  # not killed: its model stays loaded


def test_in_the_queue_thread_a_method_with_stages_stops_at_the_next_one(tmp_path):
    queue = JobQueue(models.make, workdir=tmp_path)
    try:
        job = queue.submit("a.png", _photo(queue.folder, "a.png"), JobOptions("l0"))
        assert _until(lambda: job.public()["stage"] == "estimating the blur", 30)
        queue.cancel(job.id)
        assert _until(lambda: job.status == "cancelled", 1.0)
        assert job.result is None and job.public()["stage"] is None
    finally:
        queue.close()


def test_a_job_is_seen_finished_only_once_its_files_are_settled(tmp_path, monkeypatch):
    """The page reads a job without the queue's lock: a cancelled job's result and upload
    are deleted before its status says so (a reader once saw it cancelled with its result)."""
    queue = JobQueue(models.make, workdir=tmp_path)
    try:
        job = queue.submit("a.png", _photo(queue.folder, "a.png"), JobOptions("l0"))
        assert _until(lambda: job.public()["stage"] == "estimating the blur", 30)
        status_while_deleting, unlink = [], Path.unlink

        def watched_unlink(path, missing_ok=False):
            status_while_deleting.append(job.status)
            unlink(path, missing_ok=missing_ok)

        monkeypatch.setattr(Path, "unlink", watched_unlink)
        queue.cancel(job.id)
        assert _until(lambda: job.status == "cancelled", 1.0)
        assert job.result is None and not job.source.exists()
        assert status_while_deleting and set(status_while_deleting) == {"running"}
    finally:
        queue.close()


def test_a_file_that_cannot_be_deleted_does_not_stop_the_queue(tmp_path, monkeypatch):
    queue = JobQueue(models.make, workdir=tmp_path)
    unlink = Path.unlink

    def refusing_unlink(path, missing_ok=False):
        if path.name.endswith("-result.png"):
            raise PermissionError(13, "Permission denied", str(path))
        unlink(path, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", refusing_unlink)
    try:
        first = queue.submit("a.png", _photo(queue.folder, "a.png"), JobOptions("l0"))
        after = queue.submit("b.png", _photo(queue.folder, "b.png", 1), JobOptions("l0"))
        assert _until(lambda: first.public()["stage"] == "estimating the blur", 30)
        queue.cancel(first.id)
        assert _until(lambda: first.status == "cancelled", 1.0)
        assert first.result is None and not first.source.exists()  # the upload still goes
        assert _until(lambda: after.status == "done", 30)  # the queue went on
    finally:
        queue.close()


@pytest.mark.slow  # a worker process starts (about 5 s)
def test_a_worker_that_dies_fails_its_job_in_plain_words_and_the_queue_goes_on(isolated):
    queue, _ = isolated
    dying = queue.submit("a.png", _photo(queue.folder, "a.png"), JobOptions("auto"))
    after = queue.submit("b.png", _photo(queue.folder, "b.png", 1), JobOptions("l0"))
    assert _until(lambda: after.status == "done", 90)
    assert dying.status == "failed" and dying.error == STOPPED
    assert "exit code 3" in dying.error_detail


# `deblurgan serve` with the stand-in models
SERVER = textwrap.dedent(
    """
    import signal, sys

    signal.signal(signal.SIGINT, signal.default_int_handler)  # as from a terminal
    from deblurgan.cli import main
    from deblurgan.serve import runner
    from tests.serve import models

    runner.build_job_method = models.build  # pickled by its own name: the worker imports it
    sys.exit(main(["serve", "--port", sys.argv[1], "--device", "cpu"]))
    """
)


def _job_in_worker(url: str, method: str) -> None:
    """Upload a photo for ``method`` and wait until it runs in the worker process."""
    import json
    import urllib.request

    def answers() -> bool:
        try:
            return urllib.request.urlopen(f"{url}api/info").status == 200
        except OSError:
            return False

    assert _until(answers, 60)
    png = io.BytesIO()
    Image.fromarray(np.full((40, 60, 3), 9, np.uint8)).save(png, "PNG")
    fields = f'Content-Disposition: form-data; name="method"\r\n\r\n{method}\r\n'
    upload = 'Content-Disposition: form-data; name="files"; filename="a.png"\r\n\r\n'
    body = f"--B\r\n{fields}--B\r\n{upload}".encode() + png.getvalue() + b"\r\n--B--\r\n"
    request = urllib.request.Request(
        f"{url}api/jobs", body, {"Content-Type": "multipart/form-data; boundary=B"}
    )
    (job,) = json.loads(urllib.request.urlopen(request).read())
    assert _until(
        lambda: (
            json.loads(urllib.request.urlopen(f"{url}api/jobs/{job['id']}").read())["stage"]
            in ("deblurring", "estimating the blur")
        ),
        60,
    )


@pytest.mark.slow  # a server and its worker process start (about 5 s)
@pytest.mark.parametrize(
    "signum, method",
    [(signal.SIGINT, "l0"), (signal.SIGINT, "network"), (signal.SIGTERM, "network")],
)
def test_a_signal_to_the_process_group_stops_the_server_in_one_line(signum, method):
    """Ctrl-C reaches the worker too (the terminal signals the whole group): it ignores it and
    the server stops it (a job that stops at its next stage, or a kill); a killed worker leaves
    no semaphore behind (tqdm's lock between processes is one)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(free_port()), method],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        url = server.stdout.readline().split("open ")[1].split(" ")[0]
        _job_in_worker(url, method)
        os.killpg(server.pid, signum)
        out, err = server.communicate(timeout=60)  # the resource tracker's warnings included
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
    assert (out, err, server.returncode) == ("deblurgan: stopped\n", "", 0)
