"""Model folders checked against their manifest; verdicts keyed by content, request, machine."""

import json

import pytest

from deblurgan.inference import model_cache
from deblurgan.inference.model_cache import (
    MANIFEST,
    Verdict,
    file_sha256,
    read_verdict,
    save_model_folder,
    verdict_path,
    verified_folder,
    write_verdict,
)

VERDICT = Verdict("model", "int8", 41.5, channels=32, multiple=4, min_side=8)
REQUEST = {"device": "cpu", "precision": "auto", "backend": "auto"}


def _write(files: dict[str, bytes]):
    def write(folder):
        for name, data in files.items():
            (folder / name).write_bytes(data)

    return write


def test_a_saved_folder_is_verified_and_its_manifest_records_every_file(tmp_path):
    folder = tmp_path / "model"
    assert save_model_folder(_write({"a.xml": b"<xml/>", "a.bin": b"\x01\x02"}), folder)
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest == {
        "a.bin": [2, file_sha256(folder / "a.bin")],
        "a.xml": [6, file_sha256(folder / "a.xml")],
    }
    assert verified_folder(folder)
    assert [p.name for p in tmp_path.iterdir()] == ["model"]  # no staging folder left


@pytest.mark.parametrize("damage", ["edit", "truncate", "delete", "add", "manifest"])
def test_a_damaged_folder_is_removed(tmp_path, damage):
    folder = tmp_path / "model"
    save_model_folder(_write({"a.xml": b"<xml/>", "a.bin": b"\x01\x02\x03"}), folder)
    if damage == "edit":
        (folder / "a.bin").write_bytes(b"\x01\x02\x04")
    elif damage == "truncate":
        (folder / "a.bin").write_bytes(b"\x01")
    elif damage == "delete":
        (folder / "a.xml").unlink()
    elif damage == "add":
        (folder / "extra").write_bytes(b"")
    else:
        (folder / MANIFEST).write_text("{")
    assert not verified_folder(folder) and not folder.exists()


def test_an_unwritable_cache_saves_nothing(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert not save_model_folder(_write({"a.xml": b"x"}), blocker / "model")


def test_a_failed_write_leaves_no_folder(tmp_path):
    def fail(folder):
        (folder / "a.xml").write_bytes(b"half")
        raise OSError("disk full")

    assert not save_model_folder(fail, tmp_path / "model")
    assert list(tmp_path.iterdir()) == []


def test_file_sha256_reads_in_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(model_cache, "_CHUNK", 3)
    (tmp_path / "f").write_bytes(b"0123456789")
    import hashlib

    assert file_sha256(tmp_path / "f") == hashlib.sha256(b"0123456789").hexdigest()


def test_verdicts_round_trip_and_need_their_model(tmp_path, monkeypatch):
    monkeypatch.setenv("DEBLURGAN_CACHE", str(tmp_path))
    assert read_verdict("abc", REQUEST) is None
    write_verdict("abc", REQUEST, VERDICT)
    assert read_verdict("abc", REQUEST) is None  # no model folder: not usable
    assert not verdict_path("abc", REQUEST).exists()
    write_verdict("abc", REQUEST, VERDICT)
    save_model_folder(_write({"generator.xml": b"x"}), model_cache.cache_dir() / "model")
    assert read_verdict("abc", REQUEST) == VERDICT


def test_a_verdict_is_keyed_by_weights_request_machine_and_versions(monkeypatch):
    base = verdict_path("abc", REQUEST)
    assert verdict_path("abd", REQUEST) != base
    assert verdict_path("abc", {**REQUEST, "precision": "int8"}) != base
    monkeypatch.setattr(model_cache, "machine_id", lambda: "another machine")
    assert verdict_path("abc", REQUEST) != base
    monkeypatch.undo()
    monkeypatch.setattr(model_cache, "__version__", "99.0")
    assert verdict_path("abc", REQUEST) != base
