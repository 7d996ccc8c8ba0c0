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
    with pytest.warns(model_cache.CacheNotWritableWarning, match=str(blocker)):
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


# --- the verdict file is not trusted: its fields checked, its model strictly inside the cache


def _valid_verdict_json() -> dict:
    return {
        "model": "model",
        "precision": "fp32",
        "agreement_db": None,
        "channels": 32,
        "multiple": 4,
        "min_side": 8,
    }


BAD_FIELDS = [
    {"model": ""},  # the cache folder itself: deleted the whole cache
    {"model": ".."},
    {"model": "../../outside"},  # the folder beside the cache folder
    {"model": "<absolute path of outside>"},  # never a real folder: old code deleted it
    {"model": "a/b"},
    {"model": ".hidden"},
    {"model": 123},
    {"model": None},
    {"precision": "fp16"},
    {"precision": 32},
    {"multiple": 0},
    {"multiple": -4},
    {"multiple": True},
    {"multiple": "4"},
    {"channels": 1.5},
    {"min_side": None},
    {"agreement_db": "41"},
    {"agreement_db": float("nan")},
    {"extra": 1},
]


@pytest.mark.parametrize("change", BAD_FIELDS, ids=lambda change: repr(change))
def test_a_bad_verdict_is_discarded_and_nothing_outside_the_cache_is_removed(
    tmp_path, monkeypatch, change
):
    cache = tmp_path / "cache"
    monkeypatch.setenv("DEBLURGAN_CACHE", str(cache))
    root = model_cache.cache_dir()
    outside = tmp_path / "outside"  # a folder a bad "model" could name: no manifest
    outside.mkdir()
    (outside / "precious.txt").write_text("keep me")
    assert save_model_folder(_write({"generator.xml": b"x"}), root / "model")
    path = verdict_path("abc", REQUEST)
    path.parent.mkdir(parents=True)
    if change.get("model") == "<absolute path of outside>":
        change = {"model": str(outside)}
    path.write_text(json.dumps({**_valid_verdict_json(), **change}))
    assert read_verdict("abc", REQUEST) is None  # no traceback
    assert not path.exists()  # discarded: decided again next time
    assert (outside / "precious.txt").read_text() == "keep me"
    assert verified_folder(root / "model")  # the cache's other content is untouched


def test_a_verdict_missing_a_field_or_not_an_object_is_discarded(tmp_path, monkeypatch):
    monkeypatch.setenv("DEBLURGAN_CACHE", str(tmp_path))
    save_model_folder(_write({"generator.xml": b"x"}), model_cache.cache_dir() / "model")
    path = verdict_path("abc", REQUEST)
    path.parent.mkdir(parents=True)
    partial = _valid_verdict_json()
    del partial["channels"]
    for value in (partial, [1, 2], "model", 7):
        path.write_text(json.dumps(value))
        assert read_verdict("abc", REQUEST) is None and not path.exists()
    path.write_text(json.dumps(_valid_verdict_json()))  # the valid one is read
    assert read_verdict("abc", REQUEST) == Verdict(**_valid_verdict_json())


def test_verdict_fields_round_trip_including_an_exact_agreement(tmp_path, monkeypatch):
    monkeypatch.setenv("DEBLURGAN_CACHE", str(tmp_path))
    save_model_folder(_write({"generator.xml": b"x"}), model_cache.cache_dir() / "model")
    exact = Verdict("model", "int8", float("inf"), channels=32, multiple=4, min_side=8)
    write_verdict("abc", REQUEST, exact)
    assert read_verdict("abc", REQUEST) == exact


def test_model_names_stay_inside_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DEBLURGAN_CACHE", str(tmp_path))
    root = model_cache.cache_dir()
    assert (
        model_cache.model_path("0a1b2c-int8-minmax-48-skip") == root / "0a1b2c-int8-minmax-48-skip"
    )
    for name in ("", ".", "..", "../x", "a/..", str(tmp_path), "a\\b", "a\0b", " a", ".tmp-1"):
        assert model_cache.model_path(name) is None, name


# --- the verdict key (issue 41: OpenVINO's version left out survived every test)


def test_every_part_of_the_verdict_key_changes_where_the_verdict_is(monkeypatch):
    assert tuple(model_cache.verdict_key("abc", REQUEST)) == model_cache.VERDICT_KEY
    base = verdict_path("abc", REQUEST)
    changes = {
        "weights": lambda: verdict_path("abd", REQUEST),
        "request": lambda: verdict_path("abc", {**REQUEST, "precision": "int8"}),
        "machine": lambda: monkeypatch.setattr(model_cache, "machine_id", lambda: "other"),
        "openvino": lambda: monkeypatch.setattr(
            model_cache, "_openvino_version", lambda: "2099.1.0"
        ),
        "deblurgan": lambda: monkeypatch.setattr(model_cache, "__version__", "99.0"),
    }
    assert set(changes) == set(model_cache.VERDICT_KEY)
    for part, change in changes.items():
        moved = change() or verdict_path("abc", REQUEST)
        assert moved != base, f"{part} is not part of the verdict key"
        monkeypatch.undo()
        assert verdict_path("abc", REQUEST) == base


def test_a_new_openvino_version_does_not_read_the_old_verdict(tmp_path, monkeypatch):
    monkeypatch.setenv("DEBLURGAN_CACHE", str(tmp_path))
    save_model_folder(_write({"generator.xml": b"x"}), model_cache.cache_dir() / "model")
    monkeypatch.setattr(model_cache, "_openvino_version", lambda: "2024.4.0")
    write_verdict("abc", REQUEST, VERDICT)
    assert read_verdict("abc", REQUEST) == VERDICT
    monkeypatch.setattr(model_cache, "_openvino_version", lambda: "2025.0.0")
    assert read_verdict("abc", REQUEST) is None


# --- a cache that cannot be written


def refuse_writes(monkeypatch, root) -> None:
    """Make every write, removal or creation under ``root`` fail as on a read-only file
    system (the tests run as root too, where permission bits are not enforced)."""
    import builtins
    import errno
    import io
    import os

    root = os.path.abspath(root)

    def inside(path, dir_fd=None) -> bool:
        if dir_fd is not None:  # shutil.rmtree's removals relative to an open folder
            return True
        return os.path.abspath(os.fspath(path)).startswith(root)

    def refused(path):
        return PermissionError(errno.EROFS, "Read-only file system", str(path))

    def guard(real):
        def wrapper(path, *args, **kwargs):
            if inside(path, kwargs.get("dir_fd")):
                raise refused(path)
            return real(path, *args, **kwargs)

        return wrapper

    def guard_move(real):
        def wrapper(source, target, *args, **kwargs):
            if inside(source) or inside(target):
                raise refused(target)
            return real(source, target, *args, **kwargs)

        return wrapper

    def guard_open(real, writing):
        def wrapper(path, flags_or_mode="r", *args, **kwargs):
            if isinstance(path, (str, bytes, os.PathLike)) and writing(flags_or_mode):
                if inside(path, kwargs.get("dir_fd")):
                    raise refused(path)
            return real(path, flags_or_mode, *args, **kwargs)

        return wrapper

    for name in ("mkdir", "unlink", "remove", "rmdir"):
        monkeypatch.setattr(os, name, guard(getattr(os, name)))
    for name in ("rename", "replace", "link"):
        monkeypatch.setattr(os, name, guard_move(getattr(os, name)))
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT
    monkeypatch.setattr(os, "open", guard_open(os.open, lambda flags: flags & write_flags))
    text_write = guard_open(io.open, lambda mode: any(c in str(mode) for c in "wax+"))
    monkeypatch.setattr(io, "open", text_write)
    monkeypatch.setattr(builtins, "open", text_write)


def test_refuse_writes_refuses_writes_inside_only(tmp_path, monkeypatch):
    (tmp_path / "ro").mkdir()
    (tmp_path / "ro" / "f").write_text("x")
    refuse_writes(monkeypatch, tmp_path / "ro")
    for write in (
        lambda: (tmp_path / "ro" / "g").write_text("y"),
        lambda: (tmp_path / "ro" / "f").unlink(),
        lambda: (tmp_path / "ro" / "d").mkdir(),
    ):
        with pytest.raises(PermissionError):
            write()
    import shutil

    shutil.rmtree(tmp_path / "ro", ignore_errors=True)
    assert (tmp_path / "ro" / "f").read_text() == "x"
    (tmp_path / "rw").write_text("fine")


def test_a_read_only_cache_with_a_damaged_model_reads_no_verdict_without_raising(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("DEBLURGAN_CACHE", str(tmp_path))
    save_model_folder(_write({"generator.xml": b"x"}), model_cache.cache_dir() / "model")
    write_verdict("abc", REQUEST, VERDICT)
    (model_cache.cache_dir() / "model" / "generator.xml").write_bytes(b"damaged")
    refuse_writes(monkeypatch, tmp_path)
    assert read_verdict("abc", REQUEST) is None  # no PermissionError
    assert verdict_path("abc", REQUEST).exists()  # kept: the cache cannot be written


def test_an_unwritable_cache_warns_once_that_it_converts_every_run(tmp_path, monkeypatch):
    monkeypatch.setattr(model_cache, "_warned_unwritable", set())
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("DEBLURGAN_CACHE", str(blocker))
    with pytest.warns(model_cache.CacheNotWritableWarning, match="every run") as caught:
        assert not save_model_folder(_write({"a.xml": b"x"}), model_cache.cache_dir() / "m")
        assert not save_model_folder(_write({"a.xml": b"x"}), model_cache.cache_dir() / "n")
        write_verdict("abc", REQUEST, VERDICT)
    assert len(caught) == 1


def test_read_model_files_checks_the_bytes_it_returns(tmp_path):
    folder = tmp_path / "model"
    save_model_folder(_write({"generator.xml": b"<x/>", "generator.bin": b"\x01\x02"}), folder)
    assert model_cache.read_model_files(folder) == {
        "generator.xml": b"<x/>",
        "generator.bin": b"\x01\x02",
    }
    (folder / "generator.bin").write_bytes(b"\x01")
    assert model_cache.read_model_files(folder) is None and not folder.exists()


def test_a_folder_with_an_empty_manifest_is_not_a_model(tmp_path):
    from deblurgan.inference.model_cache import read_model_files

    for check in (verified_folder, read_model_files):
        folder = tmp_path / check.__name__
        folder.mkdir()
        (folder / MANIFEST).write_text("{}")  # matches a folder of no files: still no model
        assert not check(folder)
        assert not folder.exists()
