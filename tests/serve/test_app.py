"""The web page's API, through the framework's test client, with a tiny model."""

import io
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
from deblurgan.serve.app import STATIC, ServeSettings, create_app  # noqa: E402
from deblurgan.serve.jobs import JobQueue  # noqa: E402


@pytest.fixture
def served(tiny_generator, tmp_path):
    built = []

    def make(options):
        built.append(options)
        return Deblurrer(tiny_generator, precision=options.precision, tile=options.tile)

    queue = JobQueue(make, max_pixels=100_000, workdir=tmp_path)
    settings = ServeSettings(
        {"bundled": None}, ("fp32", "bf16"), max_upload_bytes=200_000, max_pixels=100_000
    )
    with TestClient(create_app(queue, settings)) as client:
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
    assert results["notes.txt"]["error"] == "unsupported format .txt"
    assert "corrupt or truncated" in results["cut.png"]["error"]
    assert "above the limit" in results["huge.png"]["error"]
    assert results["ok.png"]["status"] == "done"
    assert all("/tmp" not in (r["error"] or "") for r in results.values())  # no server paths


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
        text = client.get(f"/static/{asset.name}").text
        assert "http://" not in text and "https://" not in text  # no CDN, no fonts from outside
    info = client.get("/api/info").json()
    assert info["models"] == ["bundled"] and info["precisions"] == ["fp32", "bf16"]


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
