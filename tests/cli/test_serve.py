"""deblurgan serve: arguments, the warning for other hosts, and the missing-extra message
(the server itself is tested in tests/serve)."""

import builtins

import pytest

from deblurgan.cli import main
from deblurgan.cli.serve import model_table
from deblurgan.hardware import cpu_has_int8_dot_product, cpu_has_native_bf16
from deblurgan.inference.policy import offered_precisions

uvicorn = pytest.importorskip("uvicorn")


def test_models_and_precisions_offered(tmp_path):
    (tmp_path / "mine.safetensors").write_bytes(b"x")
    models = model_table(
        [str(tmp_path / "mine.safetensors"), f"other={tmp_path / 'mine.safetensors'}"]
    )
    assert list(models) == ["bundled", "mine", "other"] and models["bundled"] is None
    with pytest.raises(ValueError, match="no such file"):
        model_table([str(tmp_path / "missing.safetensors")])
    expected = ("auto", "fp32") + ("int8",) * cpu_has_int8_dot_product()
    expected += ("bf16",) * cpu_has_native_bf16()
    assert offered_precisions("cpu", None) == expected
    assert offered_precisions("cpu", "bf16")[0] == "bf16"


def test_listening_beyond_this_computer_warns_and_binds_where_asked(monkeypatch, capsys):
    monkeypatch.setattr("deblurgan.cli.serve.check_port", lambda host, port: None)  # not bound
    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: calls.append((app, kwargs)))
    assert main(["serve", "--host", "0.0.0.0", "--port", "8123", "--device", "cpu"]) == 0
    out, err = capsys.readouterr()
    assert "warning: listening on 0.0.0.0" in err and "http://0.0.0.0:8123/" in out
    assert main(["serve", "--device", "cpu"]) == 0
    assert "warning" not in capsys.readouterr().err
    assert [(c["host"], c["port"]) for _, c in calls] == [("0.0.0.0", 8123), ("127.0.0.1", 8000)]
    # the Host names each answers to follow --host and --port (DNS rebinding)
    from fastapi.testclient import TestClient

    answers = {}
    for (app, _), hosts in zip(calls, (("192.168.1.5:8123", "evil.example:8123"), LOCAL_TRIES)):
        with TestClient(app) as client:  # its shutdown deletes the queue's folder
            for host in hosts:
                answers[host] = client.get("/api/info", headers={"host": host}).status_code
    assert answers == {
        "192.168.1.5:8123": 200,  # listening everywhere: this computer's addresses
        "evil.example:8123": 421,
        "127.0.0.1:8000": 200,
        "192.168.1.5:8000": 421,
        "localhost:8123": 421,
    }


LOCAL_TRIES = ("127.0.0.1:8000", "192.168.1.5:8000", "localhost:8123")


def test_missing_extra_names_the_install_command(monkeypatch, capsys):
    real_import = builtins.__import__

    def no_fastapi(name, *args, **kwargs):
        if name == "uvicorn":
            raise ModuleNotFoundError("No module named 'uvicorn'", name="uvicorn")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_fastapi)
    assert main(["serve"]) == 2
    assert 'pip install -e ".[serve]"' in capsys.readouterr().err


def test_a_bad_checkpoint_is_refused_at_start(tmp_path, capsys):
    (tmp_path / "bad.safetensors").write_bytes(b"not a checkpoint")
    assert main(["serve", "--weights", str(tmp_path / "bad.safetensors"), "--device", "cpu"]) == 2
    assert "bad.safetensors" in capsys.readouterr().err


def test_the_page_offers_every_method_and_builds_them_by_name(monkeypatch):
    """The page's jobs are built with deblurgan.methods.build_method: here blind
    deconvolution, which needs no network."""
    import io
    import time

    import numpy as np
    from fastapi.testclient import TestClient
    from PIL import Image

    from deblurgan.methods import METHODS

    apps = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: apps.append(app))
    monkeypatch.setattr("deblurgan.cli.serve.check_port", lambda host, port: None)  # not bound
    assert main(["serve", "--device", "cpu"]) == 0
    png = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (24, 32, 3), np.uint8)).save(
        png, "PNG"
    )
    with TestClient(apps[0], base_url="http://127.0.0.1:8000") as client:
        methods = client.get("/api/info").json()["methods"]
        assert [m["value"] for m in methods] == list(METHODS)  # the first is the default
        (job,) = client.post(
            "/api/jobs", data={"method": "l0"}, files={"files": ("a.png", png.getvalue())}
        ).json()
        deadline = time.time() + 120
        while job["status"] in ("queued", "running") and time.time() < deadline:
            time.sleep(0.1)
            job = client.get(f"/api/jobs/{job['id']}").json()
        assert job["status"] == "done" and job["options"]["method"] == "l0"
        assert job["note"] and "returned unchanged" in job["note"]  # noise: no blur found


def test_the_device_type_needs_pytorch_only_where_a_gpu_could_be(monkeypatch):
    import deblurgan.cli.serve as serve

    monkeypatch.setattr(serve, "missing_packages", lambda names: list(names))  # no PyTorch
    assert serve.device_type("cpu") == serve.device_type("auto") == "cpu"
    with pytest.raises(ValueError, match=r"--device cuda needs PyTorch.*deblurgan\[torch\]"):
        serve.device_type("cuda")
    with pytest.raises(ValueError, match=r"your own --weights needs PyTorch"):
        serve.check_models({"bundled": None, "mine": "mine.safetensors"})
    serve.check_models({"bundled": None})  # the bundled model is not loaded here
    monkeypatch.setattr(serve, "missing_packages", lambda names: [])
    monkeypatch.setattr(serve, "gpu_may_be_visible", lambda: False)
    assert serve.device_type("auto") == "cpu"


def test_a_port_in_use_is_one_line_naming_it_before_any_address_is_printed(monkeypatch, capsys):
    import socket

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: calls.append(kwargs))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port), "--device", "cpu"]) == 2
    out, err = capsys.readouterr()
    assert not out and not calls
    assert err == (
        f"deblurgan serve: error: port {port} is already in use on 127.0.0.1 (another server?): "
        f"choose another with --port, e.g. --port {port + 1}\n"
    )
    assert main(["serve", "--port", "70000", "--device", "cpu"]) == 2
    assert "--port 70000: ports are 1 to 65535" in capsys.readouterr().err


def test_the_upload_limit_reads_in_mib_in_the_help(capsys):
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    assert "(default: 512 MiB)" in " ".join(capsys.readouterr().out.split())
