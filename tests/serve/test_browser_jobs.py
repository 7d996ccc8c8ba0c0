"""The page in headless Chromium while jobs run: Cancel says "cancelling…" at once, the job
is cancelled within 5 s and the next one starts; blind deconvolution shows its own words and
what it found; an iPhone photo (HEIC) comes back upright as JPEG; the method chosen is
remembered after a reload; on a 390 px phone the buttons stay on one line.

``DEBLURGAN_SCREENSHOTS=folder`` keeps the screenshots (during an ``l0`` run, after a
cancel, at 390 px); otherwise they go to the test's temporary folder.
"""

import functools
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
pytest.importorskip("selenium")
if not (shutil.which("chromium") and shutil.which("chromedriver")):
    pytest.skip("chromium and chromedriver are not installed", allow_module_level=True)

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from deblurgan.inference.deblurrer import Deblurrer  # noqa: E402
from deblurgan.methods import MethodOptions  # noqa: E402
from deblurgan.serve.app import ServeSettings, create_app  # noqa: E402
from deblurgan.serve.jobs import JobQueue  # noqa: E402
from deblurgan.serve.runner import build_job_method  # noqa: E402

from . import models  # noqa: E402
from .conftest import chromium, free_port, serving  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
METHOD_STAGES = ("deblurring", "estimating the blur", "sharpening")


def _serve(queue):
    port = free_port()
    settings = ServeSettings({"bundled": None}, ("fp32",), port=port, methods=("network", "l0"))
    return serving(create_app(queue, settings), port)


def _shots(tmp_path):
    folder = Path(os.environ.get("DEBLURGAN_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _card(browser, name):
    for card in browser.find_elements(By.CSS_SELECTOR, ".job"):
        if card.find_element(By.CSS_SELECTOR, ".name").text == name:
            return card
    return None


def _state(browser, name):
    card = _card(browser, name)
    if card is None:
        return None
    return {
        key: card.find_element(By.CSS_SELECTOR, f".{key}").text
        for key in ("status", "timing", "found")
    } | {"data": card.get_attribute("data-status")}


def _photo(path, size=(480, 640), seed=0):
    pixels = np.random.default_rng(seed).integers(0, 256, (*size, 3), np.uint8)
    Image.fromarray(pixels).save(path, quality=90)
    return path


def _until(condition, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def _choose(browser, method):
    WebDriverWait(browser, 60).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, f"#method option[value={method}]")
    )
    browser.find_element(By.CSS_SELECTOR, f"#method option[value={method}]").click()


@pytest.mark.slow  # a worker process, a browser and a 390 px pass (about 20 s)
def test_cancel_shows_at_once_stops_the_work_and_the_next_job_starts(tmp_path):
    queue = JobQueue(models.make, workdir=tmp_path, isolate=True)
    first, second = _photo(tmp_path / "first.jpg"), _photo(tmp_path / "second.jpg", seed=1)
    with _serve(queue) as url, chromium() as browser:
        browser.get(url)
        _choose(browser, "network")  # here a model whose one call lasts 60 s
        browser.find_element(By.ID, "files").send_keys(f"{first}\n{second}")
        wait = WebDriverWait(browser, 60, poll_frequency=0.05)
        names = ("first.jpg", "second.jpg")

        def deblurring(name):
            return "deblurring" in (_state(browser, name) or {}).get("timing", "")

        # The page uploads both at once: either may reach the worker first.
        started = _until(lambda: any(deblurring(name) for name in names), 60)
        assert started, ([_state(browser, n) for n in names], [j.public() for j in queue.jobs()])
        running, waiting = names if deblurring(names[0]) else names[::-1]
        assert _state(browser, waiting)["status"] == "waiting", _state(browser, waiting)
        _card(browser, running).find_element(By.CSS_SELECTOR, ".cancel").click()
        clicked = time.monotonic()
        assert _state(browser, running)["status"] == "cancelling…"  # at once, on the page
        five = WebDriverWait(browser, 5, poll_frequency=0.05)
        five.until(lambda d: _state(d, running)["data"] == "cancelled")
        assert time.monotonic() - clicked < 5
        assert _state(browser, running)["status"] == "cancelled"
        five.until(lambda d: _state(d, waiting)["data"] in ("running", "done"))
        assert time.monotonic() - clicked < 10
        browser.execute_script("window.scrollTo(0, 0)")
        browser.save_screenshot(str(_shots(tmp_path) / "after_cancel.png"))

        browser.set_window_size(390, 844)  # a phone
        wait.until(lambda d: d.execute_script("return window.innerWidth") <= 390)
        assert browser.execute_script(
            "return document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
        # Every card's rectangles in one script: one layout, not one taken between re-renders
        # of a card whose status text changes while it is measured.
        cards = browser.execute_script(
            """return [...document.querySelectorAll('.job')].map(card => ({
                buttons: [...card.querySelectorAll('button')]
                    .filter(b => b.offsetParent !== null)
                    .map(b => b.getBoundingClientRect().toJSON()),
                status: card.querySelector('.status').getBoundingClientRect().toJSON()}))"""
        )
        assert cards
        for card in cards:
            visible, status = card["buttons"], card["status"]
            assert all(abs(r["y"] - visible[0]["y"]) < 4 for r in visible)  # one line
            assert all(
                abs(r["y"] + r["height"] / 2 - status["y"] - status["height"] / 2) < 8
                for r in visible
            ), card
        browser.execute_script("document.querySelector('#jobs').scrollIntoView()")
        browser.save_screenshot(str(_shots(tmp_path) / "phone_390.png"))


@pytest.mark.slow  # blind deconvolution of a real photo in a worker process
def test_blind_deconvolution_shows_its_stages_and_what_it_found(tmp_path):
    make = functools.partial(build_job_method, MethodOptions(device="cpu"), {"bundled": None})
    queue = JobQueue(make, workdir=tmp_path, isolate=True)
    with _serve(queue) as url, chromium() as browser:
        browser.get(url)
        _choose(browser, "l0")
        browser.refresh()  # the choice is remembered in this browser
        WebDriverWait(browser, 60).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, "#method option")
        )
        assert browser.find_element(By.ID, "method").get_attribute("value") == "l0"
        photo = REPO / "examples" / "blurry_coffee.jpg"
        browser.find_element(By.ID, "files").send_keys(str(photo))
        seen, shot, deadline = [], False, time.monotonic() + 300
        while time.monotonic() < deadline:
            state = _state(browser, photo.name)
            if state and state["data"] == "done":
                break
            if state and state["data"] == "running":
                seen.append(state["timing"].split(" · ")[0])
                if not shot and seen[-1] in METHOD_STAGES:
                    time.sleep(0.5)  # the progress bar moves on a little
                    browser.save_screenshot(str(_shots(tmp_path) / "l0_running.png"))
                    shot = True
            time.sleep(0.2)
        assert shot, seen  # the method's own words while it runs
        assert not any("loading the model and the file" in text for text in seen)
        wait = WebDriverWait(browser, 60)
        wait.until(lambda d: _state(d, photo.name)["data"] == "done")
        found = _state(browser, photo.name)["found"]
        assert found == "" or ("kernel" not in found and "spread" not in found)
        card = _card(browser, photo.name)
        browser.execute_script("arguments[0].scrollIntoView(true)", card)
        browser.save_screenshot(str(_shots(tmp_path) / "l0_done.png"))


def test_an_iphone_photo_comes_back_upright_as_jpeg(tiny_generator, tmp_path):
    pillow_heif = pytest.importorskip("pillow_heif")
    from tests.io.test_heif import make_heic

    heic = tmp_path / "IMG_0003.HEIC"
    make_heic(heic, orientation=6, size=(96, 64))  # stored 96 wide; shown 64 wide, 96 tall
    assert pillow_heif.is_supported(heic)

    def make(options, on_stage=None):
        return Deblurrer(tiny_generator, precision="fp32", backend="torch")

    queue = JobQueue(make, workdir=tmp_path)
    with _serve(queue) as url, chromium() as browser:
        browser.get(url)
        _choose(browser, "network")
        assert ".heic" in browser.find_element(By.ID, "files").get_attribute("accept")
        assert "HEIC" in browser.find_element(By.ID, "limits").text
        browser.find_element(By.ID, "files").send_keys(str(heic))
        wait = WebDriverWait(browser, 60)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".job .compare img.after"))
        size = wait.until(
            lambda d: d.execute_script(
                "const i = document.querySelector('.job img.after');"
                "return i.complete && i.naturalWidth ? [i.naturalWidth, i.naturalHeight] : null"
            )
        )
        assert size == [64, 96]
        download = browser.find_element(By.CSS_SELECTOR, ".job a.download")
        assert download.get_attribute("download") == "IMG_0003_sharp.jpg"
        (job,) = queue.jobs()
        with Image.open(job.result) as result:  # what the download link serves
            assert result.format == "JPEG" and result.size == (64, 96)
        for width in (1100, 390):  # the captions sit over the centred portrait, not the page
            browser.set_window_size(width, 844)
            wait.until(lambda d, w=width: d.execute_script("return window.innerWidth") <= w)
            time.sleep(0.3)
            labels, stage = (
                browser.find_element(By.CSS_SELECTOR, f".job {c}").rect
                for c in (".labels", ".stage")
            )
            assert abs(labels["x"] - stage["x"]) < 2 and abs(labels["width"] - stage["width"]) < 2
        browser.execute_script("document.querySelector('.job').scrollIntoView()")
        browser.save_screenshot(str(_shots(tmp_path) / "phone_390_result.png"))
