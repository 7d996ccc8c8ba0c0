"""Cancel that cancels: a job that ignores the cancel (one long call, as the network's) is
stopped within seconds by killing its worker process, and the next job starts; a method that
reports stages stops at the next one, in the queue's thread or in the worker (which lives
on); a job is seen finished only once its files are settled, and a file that cannot be
deleted does not stop the queue; a worker that dies fails its job in plain words and the
queue goes on."""

import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from deblurgan.serve.jobs import JobOptions, JobQueue
from deblurgan.serve.words import STOPPED

from . import models


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
