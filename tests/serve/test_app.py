"""The web page's API, through the framework's test client, with a tiny model; the
protections against other websites (Host, Origin, upload size, headers) and browser-scoped
jobs; and, with a real server, an over-limit chunked upload."""

import contextlib
import io
import re
import select
import socket
import tempfile
import time
import zipfile
from fractions import Fraction

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
from fastapi.testclient import TestClient  # noqa: E402

from deblurgan.inference.deblurrer import Deblurrer  # noqa: E402
from deblurgan.io.images import read_image, write_image  # noqa: E402
from deblurgan.io.video import VideoInfo, read_frames, video_writer  # noqa: E402
from deblurgan.methods import build_method  # noqa: E402
from deblurgan.serve.app import STATIC, ServeSettings, create_app  # noqa: E402
from deblurgan.serve.guard import host_allowed  # noqa: E402
from deblurgan.serve.jobs import JobOptions, JobQueue  # noqa: E402
from deblurgan.serve.words import METHOD_WORDS  # noqa: E402
from deblurgan.serve.work import TIMING, Progress  # noqa: E402

from .conftest import free_port, serving  # noqa: E402

BASE = "http://127.0.0.1:8000"  # the settings' default host and port


@pytest.fixture
def served(tiny_generator, tmp_path):
    built = []

    def make(options, on_stage=None):
        built.append(options)
        if options.method != "network":
            return build_method(options.method)
        return Deblurrer(tiny_generator, precision=options.precision, tile=options.tile)

    queue = JobQueue(make, max_pixels=100_000, workdir=tmp_path)
    settings = ServeSettings(
        {"bundled": None},
        ("fp32", "bf16"),
        max_upload_bytes=200_000,
        max_pixels=100_000,
        methods=("network", "l0"),
    )
    with TestClient(create_app(queue, settings), base_url=BASE) as client:
        yield client, queue, built
    assert not queue.folder.exists()  # everything the server stored is gone when it stops


def _png(size=(30, 44), seed=0):
    pixels = np.random.default_rng(seed).integers(0, 256, (*size, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def _wait(client, job_id, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["status"] not in ("queued", "running"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish")


def test_served_result_equals_the_deblurrer_on_the_same_image(served, tiny_generator, tmp_path):
    client, queue, _ = served
    data = _png()
    (job,) = client.post("/api/jobs", files={"files": ("photo.png", data)}).json()
    assert _wait(client, job["id"])["status"] == "done"
    served_png = client.get(f"/api/jobs/{job['id']}/result")
    assert served_png.headers["content-disposition"].endswith('filename="photo_sharp.png"')
    (tmp_path / "in.png").write_bytes(data)
    image = read_image(tmp_path / "in.png")
    reference = Deblurrer(tiny_generator, precision="fp32")  # the page's first precision
    write_image(tmp_path / "cli.png", image.with_rgb(reference(image.rgb)))
    assert served_png.content == (tmp_path / "cli.png").read_bytes()
    for which in ("before", "after"):
        preview = client.get(f"/api/jobs/{job['id']}/{which}")
        assert preview.headers["content-type"] == "image/jpeg"
        assert Image.open(io.BytesIO(preview.content)).size == (44, 30)
    assert [
        p.name for p in queue.folder.iterdir() if "result" not in p.name and ".jpg" not in p.name
    ] == []  # the upload was deleted


def test_bad_files_fail_with_a_message_and_the_rest_continue(served):
    client, _, _ = served
    truncated = _png()[:100]
    huge = io.BytesIO()
    Image.new("1", (400, 300)).save(huge, format="PNG")  # 120,000 pixels > 100,000
    files = [
        ("files", ("notes.txt", b"hello")),
        ("files", ("cut.png", truncated)),
        ("files", ("huge.png", huge.getvalue())),
        ("files", ("ok.png", _png(seed=1))),
    ]
    jobs = client.post("/api/jobs", files=files).json()
    results = {job["name"]: _wait(client, job["id"]) for job in jobs}
    # what happened and what to do in plain words; the command line's message as a detail
    assert results["notes.txt"]["error"].startswith("This page cannot read .txt files.")
    assert "HEIC" in results["notes.txt"]["error"]
    assert results["notes.txt"]["error_detail"] == "unsupported format .txt"
    assert "could not be read as a photo" in results["cut.png"]["error"]
    assert "save it again as JPEG" in results["cut.png"]["error"]
    assert "corrupt or truncated" in results["cut.png"]["error_detail"]
    assert results["huge.png"]["error"] == (
        "This photo is 0.1 megapixels; this page takes at most 0.1 megapixels. "
        "Make it smaller, then retry."
    )
    assert "above the limit" in results["huge.png"]["error_detail"]
    assert results["ok.png"]["status"] == "done" and results["ok.png"]["error"] is None
    # a name to download as only where there is something to download (the page's rule)
    assert {name: r["download_name"] for name, r in results.items()} == {
        "notes.txt": None,
        "cut.png": None,
        "huge.png": None,
        "ok.png": "ok_sharp.png",
    }
    for result in results.values():  # no server paths, option names or codec words
        for text in (result["error"] or "", result["error_detail"] or ""):
            assert "/tmp" not in text
        plain = result["error"] or ""
        assert "--" not in plain and "decompression" not in plain


def test_uploads_beyond_the_limit_get_413_and_nothing_is_stored(served):
    client, queue, _ = served
    response = client.post("/api/jobs", files={"files": ("big.png", b"\0" * 300_000)})
    assert response.status_code == 413 and "limit" in response.json()["detail"]
    assert client.get("/api/jobs").json() == [] and not list(queue.folder.iterdir())


def test_client_names_are_never_paths(served, tmp_path):
    client, queue, _ = served
    (job,) = client.post("/api/jobs", files={"files": ("../../../evil.png", _png())}).json()
    assert job["name"] == "evil.png"
    _wait(client, job["id"])
    assert not (tmp_path.parent / "evil.png").exists() and not list(tmp_path.rglob("evil*"))
    assert all(p.parent == queue.folder for p in queue.folder.rglob("*"))


def test_options_choose_the_model_and_unknown_ones_are_refused(served):
    client, _, built = served
    assert (
        client.post(
            "/api/jobs", data={"model": "other"}, files={"files": ("a.png", _png())}
        ).status_code
        == 400
    )
    assert (
        client.post(
            "/api/jobs", data={"precision": "fp16"}, files={"files": ("a.png", _png())}
        ).status_code
        == 400
    )
    for precision in ("bf16", "bf16", "fp32"):
        (job,) = client.post(
            "/api/jobs",
            data={"precision": precision, "tile": "64"},
            files={"files": ("a.png", _png())},
        ).json()
        assert _wait(client, job["id"])["status"] == "done"
    # one model at a time, rebuilt only when the options change
    assert [(o.precision, o.tile) for o in built] == [("bf16", 64), ("fp32", 64)]


def test_queued_jobs_can_be_cancelled_and_removed_and_results_zipped(served):
    client, queue, _ = served
    jobs = client.post(
        "/api/jobs", files=[("files", (f"p{i}.png", _png(seed=i))) for i in range(4)]
    ).json()
    client.post(f"/api/jobs/{jobs[-1]['id']}/cancel")
    finished = [_wait(client, job["id"]) for job in jobs]
    assert [j["status"] for j in finished][:3] == ["done"] * 3
    assert finished[3]["status"] in ("cancelled", "done")  # it may have run before the cancel
    assert client.delete(f"/api/jobs/{jobs[0]['id']}").status_code == 200
    assert client.get(f"/api/jobs/{jobs[0]['id']}").status_code == 404
    archive = zipfile.ZipFile(io.BytesIO(client.get("/api/results.zip").content))
    expected = {"p1_sharp.png", "p2_sharp.png"} | (
        {"p3_sharp.png"} if finished[3]["status"] == "done" else set()
    )
    assert set(archive.namelist()) == expected


def test_page_and_assets_are_served_from_the_package_and_work_offline(served):
    client, _, _ = served
    page = client.get("/")
    assert page.status_code == 200 and "/static/app.js" in page.text
    for asset in STATIC.iterdir():
        text = client.get(f"/static/{asset.name}").text.replace(SVG_NAMESPACE, "")
        assert "http://" not in text and "https://" not in text  # no CDN, no fonts from outside
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/svg+xml"


SVG_NAMESPACE = 'xmlns="http://www.w3.org/2000/svg"'  # a name, not a download


def test_options_are_offered_in_plain_words_with_the_codes_as_details(served):
    client, _, _ = served
    info = client.get("/api/info").json()
    assert [p["value"] for p in info["precisions"]] == ["fp32", "bf16"]
    assert [p["label"] for p in info["precisions"]] == ["Most exact", "Faster"]
    assert "bf16" not in info["precisions"][1]["detail"]  # no codes: what it means instead
    assert "too small to see" in info["precisions"][1]["detail"]
    assert [m["value"] for m in info["models"]] == ["bundled"]
    assert "bundled" not in info["models"][0]["label"] and "Built-in" in info["models"][0]["label"]
    assert [(m["value"], m["label"], m["summary"]) for m in info["methods"]] == [
        (name, *METHOD_WORDS[name]) for name in ("network", "l0")
    ]
    assert "still scene" in info["methods"][1]["summary"]
    assert "Up to 0.2 MiB per file" in info["limits"]  # 200,000 bytes, as the 413 reply says
    assert "0.1 megapixels" in info["limits"] and "HEIC" in info["limits"]


def test_a_job_with_blind_deconvolution_runs(served, tmp_path):
    client, _, built = served
    y, x = np.mgrid[0:48, 0:64]
    sharp = (((x // 8) + (y // 8)) % 2 * 200 + 30).astype(np.uint8)
    blurred = np.stack([np.roll(sharp, s, axis=1) for s in range(5)]).mean(0)  # shake along x
    buffer = io.BytesIO()
    Image.fromarray(np.repeat(blurred[..., None], 3, -1).astype(np.uint8)).save(buffer, "PNG")
    response = client.post(
        "/api/jobs", data={"method": "l0"}, files={"files": ("shaken.png", buffer.getvalue())}
    )
    (job,) = response.json()
    assert job["options"]["method"] == "l0"
    job = _wait(client, job["id"])
    assert job["status"] == "done" and built[-1].method == "l0"
    assert job["basis"] != "estimate"  # its time does not follow the pixels: its own stages
    (tmp_path / "in.png").write_bytes(buffer.getvalue())
    image = read_image(tmp_path / "in.png")
    reference = build_method("l0").restore(image.rgb)  # the CLI's method on the same image
    write_image(tmp_path / "reference.png", image.with_rgb(reference.rgb))
    served_png = client.get(f"/api/jobs/{job['id']}/result").content
    assert served_png == (tmp_path / "reference.png").read_bytes()
    assert job["note"] == reference.note
    bad = client.post("/api/jobs", data={"method": "magic"}, files={"files": ("a.png", _png())})
    assert bad.status_code == 400 and "unknown method" in bad.json()["detail"]


def test_a_video_and_an_animated_gif_are_deblurred_whole(served, tmp_path):
    client, _, _ = served
    y, x = np.mgrid[0:36, 0:52]
    with video_writer(tmp_path / "clip.mp4", VideoInfo(Fraction(24), 52, 36, None)) as write:
        for i in range(5):
            write(np.stack([x * 4, y * 6, x + y + 30 * i], -1).clip(0, 255).astype(np.uint8))
    frames = [Image.fromarray(np.full((10, 14, 3), 40 * k, np.uint8)) for k in range(3)]
    gif = io.BytesIO()
    frames[0].save(gif, format="GIF", save_all=True, append_images=frames[1:], duration=80)
    files = [
        ("files", ("clip.mp4", (tmp_path / "clip.mp4").read_bytes())),
        ("files", ("anim.gif", gif.getvalue())),
    ]
    video, animation = client.post("/api/jobs", files=files).json()
    assert video["kind"] == "video"
    assert _wait(client, video["id"])["status"] == "done"
    assert _wait(client, animation["id"])["kind"] == "animation"
    (tmp_path / "out.mp4").write_bytes(client.get(f"/api/jobs/{video['id']}/result").content)
    assert len(list(read_frames(tmp_path / "out.mp4"))) == 5
    result = Image.open(io.BytesIO(client.get(f"/api/jobs/{animation['id']}/result").content))
    assert result.n_frames == 3


# --- other websites in the same browser ---------------------------------------------------

FOREIGN_HOSTS = (
    "evil.example:8000",  # a DNS-rebinding page: its name now points at 127.0.0.1
    "evil.example",
    "127.0.0.1.evil.example:8000",
    "localhost.evil.example:8000",
    "localhost:8001",  # this computer, but another port
    "192.168.1.5:8000",  # an address this server does not listen on
    "",
    "127.0.0.1:80x",
)


def _every_request(app, job_id):
    """(method, path) for every route of the app, with real ids in its parameters."""
    for route in app.routes:
        if hasattr(route, "methods"):
            path = route.path.replace("{job_id}", job_id).replace("{which}", "after")
            yield from ((method, path) for method in sorted(route.methods))
        else:  # the static files
            yield "GET", f"{route.path}/app.js"
    yield "GET", "/no-such-page"


def test_a_foreign_host_is_refused_on_every_route(served):
    client, queue, _ = served
    (job,) = client.post("/api/jobs", files={"files": ("secret-name.png", _png())}).json()
    assert _wait(client, job["id"])["status"] == "done"
    requests = list(_every_request(client.app, job["id"]))
    assert ("DELETE", f"/api/jobs/{job['id']}") in requests
    assert ("GET", "/static/app.js") in requests and ("GET", "/favicon.ico") in requests
    for host in FOREIGN_HOSTS:
        for method, path in requests:
            response = client.request(method, path, headers={"host": host})
            assert response.status_code == 421, (host, method, path)
            assert "secret-name" not in response.text and b"PNG" not in response.content
    assert [j["status"] for j in client.get("/api/jobs").json()] == ["done"]  # untouched
    for host in ("127.0.0.1:8000", "localhost:8000", "[::1]:8000", "LOCALHOST:8000"):
        assert client.get("/api/jobs", headers={"host": host}).json()[0]["id"] == job["id"]


def test_host_names_answered_depend_on_where_the_server_listens():
    assert host_allowed("localhost", "127.0.0.1", 80) and not host_allowed("localhost", "::1", 81)
    assert host_allowed("[::1]:8000", "127.0.0.1", 8000)
    assert host_allowed("photos.lan:8000", "photos.lan", 8000)
    assert not host_allowed("192.168.1.5:8000", "127.0.0.1", 8000)
    assert host_allowed("192.168.1.5:8000", "0.0.0.0", 8000)  # listening on every address
    assert host_allowed("[fe80::1]:8000", "::", 8000)
    assert not host_allowed("evil.example:8000", "0.0.0.0", 8000)  # names still refused


def test_state_changing_requests_from_another_site_are_refused(served):
    client, queue, _ = served
    (job,) = client.post("/api/jobs", files={"files": ("a.png", _png())}).json()
    assert _wait(client, job["id"])["status"] == "done"
    changing = [
        (method, path)
        for method, path in _every_request(client.app, job["id"])
        if method not in ("GET", "HEAD")
    ]
    assert {m for m, _ in changing} == {"POST", "DELETE"} and len(changing) == 3
    foreign = (
        {"origin": "https://evil.example"},
        {"origin": "http://evil.example:8000"},
        {"origin": "null"},  # sandboxed frames, files
        {"origin": "http://127.0.0.1:8001"},  # another server on this computer
        {"origin": "http://localhost:8000"},  # the same server under another origin
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site"},
        {"origin": BASE, "sec-fetch-site": "cross-site"},
    )
    for headers in foreign:
        for method, path in changing:
            files = {"files": ("b.png", _png())} if path == "/api/jobs" else None
            response = client.request(method, path, headers=headers, files=files)
            assert response.status_code == 403, (headers, method, path)
        # reading the API from another site is refused too (the page's own reads are not)
        assert client.get("/api/jobs", headers=headers).status_code == 403
    assert [j["id"] for j in client.get("/api/jobs").json()] == [job["id"]]  # nothing queued
    assert len(queue.jobs()) == 1 and queue.jobs()[0].status == "done"  # nor removed
    own = {"origin": BASE, "sec-fetch-site": "same-origin"}
    response = client.post("/api/jobs", headers=own, files={"files": ("c.png", _png())})
    assert response.status_code == 200  # the page itself
    assert client.get("/", headers={"sec-fetch-site": "cross-site"}).status_code == 200  # a link


def test_every_response_carries_the_security_headers(served):
    client, _, _ = served
    for method, path, host in (
        ("GET", "/", "127.0.0.1:8000"),
        ("GET", "/static/app.js", "127.0.0.1:8000"),
        ("GET", "/api/jobs", "127.0.0.1:8000"),
        ("GET", "/api/jobs/nope", "127.0.0.1:8000"),
        ("GET", "/", "evil.example"),
    ):
        headers = client.request(method, path, headers={"host": host}).headers
        policy = dict(
            d.strip().split(" ", 1) for d in headers["content-security-policy"].split(";")
        )
        assert policy["default-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
        assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["cross-origin-resource-policy"] == "same-origin"
    page = client.get("/").text
    assert "<script>" not in page and "style=" not in page and "onclick" not in page  # no inline


def test_a_chunked_upload_over_the_limit_gets_413_and_nothing_is_stored(served):
    client, queue, _ = served

    def body():
        yield b"--b\r\nContent-Disposition: form-data; name=files; filename=big.png\r\n\r\n"
        for _ in range(40):
            yield b"\0" * 10_000  # 400 kB in all, twice the limit, without a Content-Length
        yield b"\r\n--b--\r\n"

    response = client.post(
        "/api/jobs", content=body(), headers={"content-type": "multipart/form-data; boundary=b"}
    )
    assert response.status_code == 413 and "limit" in response.json()["detail"]
    assert client.get("/api/jobs").json() == [] and not list(queue.folder.iterdir())


class _LargestSpool(tempfile.SpooledTemporaryFile):
    """Records the largest size any multipart temporary file reached."""

    largest = 0

    def write(self, data):
        written = super().write(data)
        _LargestSpool.largest = max(_LargestSpool.largest, self.tell())
        return written


def test_a_real_chunked_upload_is_cut_off_at_the_limit(tiny_generator, tmp_path, monkeypatch):
    """A real server and socket, so the body arrives in pieces as it is sent: the server
    stops reading it at the limit, and no file (temporary ones included) grows past it."""
    formparsers = pytest.importorskip("starlette.formparsers")
    monkeypatch.setattr(formparsers, "SpooledTemporaryFile", _LargestSpool)
    _LargestSpool.largest = 0
    limit, port, pulled = 1 << 20, free_port(), [0]
    queue = JobQueue(lambda options, on_stage: lambda rgb: rgb, workdir=tmp_path)
    app = create_app(queue, ServeSettings({"bundled": None}, max_upload_bytes=limit, port=port))

    async def counting(scope, receive, send):  # what the server hands the application
        async def counted():
            message = await receive()
            pulled[0] += len(message.get("body", b""))
            return message

        await app(scope, counted, send)

    with serving(counting, port):
        status = _send_chunked(port, total=20 * limit)
        jobs_left = list(queue.jobs())
    assert status in (413, None)  # None: the server closed before the reply could be read
    assert pulled[0] <= limit + 512 * 1024, pulled[0]  # one socket read past it, not 20 MiB
    assert _LargestSpool.largest <= limit, _LargestSpool.largest
    assert jobs_left == [] and not queue.folder.exists()


def _send_chunked(port: int, total: int) -> int | None:
    """POST a multipart upload with Transfer-Encoding: chunked; the reply's status, if any."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(
            f"POST /api/jobs HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Transfer-Encoding: chunked\r\n"
            "Content-Type: multipart/form-data; boundary=b\r\n\r\n".encode()
        )
        pieces = [b"--b\r\nContent-Disposition: form-data; name=files; filename=big.png\r\n\r\n"]
        pieces += [b"\0" * 65536] * (total // 65536) + [b"\r\n--b--\r\n", b""]  # b"": the end
        reply = b""
        try:
            for piece in pieces:
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
                if select.select([sock], [], [], 0)[0]:
                    break
            reply = sock.recv(4096)
        except (BrokenPipeError, ConnectionResetError):
            with contextlib.suppress(OSError):
                reply = sock.recv(4096)
    match = re.match(rb"HTTP/1.1 (\d+)", reply)
    return int(match.group(1)) if match else None


# --- each browser its own jobs ------------------------------------------------------------


def test_jobs_belong_to_the_browser_that_made_them(served):
    client, queue, _ = served
    first = client.get("/")
    cookie = first.headers["set-cookie"]
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    assert "set-cookie" not in client.get("/").headers  # set once, kept after a reload
    mine = client.post("/api/jobs", files={"files": ("mine.png", _png())}).json()[0]
    other = TestClient(client.app, base_url=BASE)  # another browser (no lifespan of its own)
    other.get("/")
    theirs = other.post("/api/jobs", files={"files": ("theirs.png", _png(seed=1))}).json()[0]
    script = TestClient(client.app, base_url=BASE)  # curl: no cookie
    scripted = script.post("/api/jobs", files={"files": ("curl.png", _png(seed=2))}).json()[0]
    for c, job in ((client, mine), (other, theirs), (script, scripted)):
        assert _wait(c, job["id"])["status"] == "done"
    assert [j["name"] for j in client.get("/api/jobs").json()] == ["mine.png"]  # after a reload
    assert [j["name"] for j in other.get("/api/jobs").json()] == ["theirs.png"]
    assert [j["name"] for j in script.get("/api/jobs").json()] == ["curl.png"]
    for path in ("", "/result", "/after", "/cancel", "DELETE"):
        method, path = ("DELETE", "") if path == "DELETE" else ("POST" if path else "GET", path)
        method = "GET" if path in ("/result", "/after") else method
        assert other.request(method, f"/api/jobs/{mine['id']}{path}").status_code == 404
    assert {j.name for j in queue.jobs()} == {"mine.png", "theirs.png", "curl.png"}
    archive = zipfile.ZipFile(io.BytesIO(client.get("/api/results.zip").content))
    assert archive.namelist() == ["mine_sharp.png"]
    forged = TestClient(client.app, base_url=BASE, cookies={"deblurgan_browser": "x"})
    assert forged.get("/api/jobs").json() == [j.public() for j in queue.jobs() if not j.owner]


# --- clear while it works -----------------------------------------------------------------


def test_progress_is_elapsed_time_and_an_estimate_from_the_measured_speed():
    progress = Progress(started=100.0, estimate_s=10.0, model_started=102.0)
    assert progress.public(done=False, now=107.0) == {
        "progress": 0.5,
        "basis": "estimate",
        "elapsed_s": 7.0,
        "remaining_s": 5.0,
        "stage": None,
    }
    late = progress.public(done=False, now=130.0)  # slower than estimated: it waits, stays below 1
    assert late["progress"] == 0.95 and late["remaining_s"] == 0.0
    frames = Progress(started=0.0, frames=10, frames_done=4).public(done=False, now=8.0)
    assert frames == {
        "progress": 0.4,
        "basis": "frames",
        "elapsed_s": 8.0,
        "remaining_s": 12.0,
        "stage": None,
    }
    unknown = Progress().public(done=False, now=1.0)
    assert unknown == {
        "progress": 0.0,
        "basis": None,
        "elapsed_s": None,
        "remaining_s": None,
        "stage": None,
    }
    finished = Progress(started=0.0, ended=3.0, estimate_s=1.0, model_started=0.5)
    assert finished.public(done=True, now=50.0)["elapsed_s"] == 3.0  # time stops when it ends
    assert Progress(started=0, ended=3.0).public(done=False, now=9)["progress"] == 0.0  # failed


def test_a_single_photo_reports_moving_progress_and_elapsed_time(tmp_path):
    """A model that takes 1 s per 200,000 pixels: the first photo is estimated from the
    check image timed when the model is loaded, the second from the first photo."""
    pixels_per_s = 200_000

    def slow(rgb):
        time.sleep(rgb.shape[0] * rgb.shape[1] / pixels_per_s)
        return rgb

    queue = JobQueue(lambda options, on_stage: slow, workdir=tmp_path)
    settings = ServeSettings({"bundled": None})
    with TestClient(create_app(queue, settings), base_url=BASE) as client:
        for round_ in range(2):
            files = {"files": ("big.png", _png(size=(400, 500)))}  # 1 s of "work"
            (job,) = client.post("/api/jobs", files=files).json()
            seen = []
            while (state := client.get(f"/api/jobs/{job['id']}").json())["status"] in (
                "queued",
                "running",
            ):
                if state["status"] == "running":
                    seen.append(state)
                time.sleep(0.1)
            assert state["status"] == "done" and state["progress"] == 1
            moving = [s["progress"] for s in seen if 0 < s["progress"] < 1]
            assert len(set(moving)) >= 3 and moving == sorted(moving), (round_, moving)
            bases = [s["basis"] for s in seen]  # None while the model loads and the photo is read
            assert "estimate" in bases and set(bases[bases.index("estimate") :]) == {"estimate"}
            elapsed = [s["elapsed_s"] for s in seen]
            assert elapsed == sorted(elapsed) and elapsed[-1] > 0.5
            assert 0.8 < state["elapsed_s"] < 15  # 1 s of work, the checks, reading, writing
            estimating = [s for s in seen if s["basis"] == "estimate"]
            estimated = estimating[len(estimating) // 2]
            assert estimated["remaining_s"] is not None and estimated["stage"] == "deblurring"
            assert any(s["stage"] == TIMING for s in seen) == (round_ == 0)  # timed once
        measured = queue._speeds[JobOptions()]["whole"]
        assert 0.5 * pixels_per_s < measured.pixels_per_s < 1.05 * pixels_per_s  # the photo's own
