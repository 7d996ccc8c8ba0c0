"""End to end in a real headless browser (Debian's chromium and chromedriver, via Selenium):
upload a photo on the page, wait for the result, drag the divider, zoom, and take a
screenshot; a portrait photo fits at zoom 1 with its slider and download button on screen,
its progress bar moves while it runs, and a reload shows it again; a script of another
origin, or of a DNS-rebinding name, cannot read the job list. Skipped where no browser is
installed (``.ci/run`` installs one).

``DEBLURGAN_SCREENSHOT=docs/serve.png python -m pytest tests/serve/test_browser.py`` with the
bundled model (``DEBLURGAN_SCREENSHOT_MODEL=bundled``) makes the README's picture.
"""

import contextlib
import http.server
import os
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("fastapi")
selenium = pytest.importorskip("selenium")
uvicorn = pytest.importorskip("uvicorn")
if not (shutil.which("chromium") and shutil.which("chromedriver")):
    pytest.skip("chromium and chromedriver are not installed", allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from deblurgan.inference.deblurrer import Deblurrer  # noqa: E402
from deblurgan.serve.app import ServeSettings, create_app  # noqa: E402
from deblurgan.serve.jobs import JobOptions, JobQueue  # noqa: E402

from .conftest import chromium, free_port, serving  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
REBINDING_NAME = "rebound.example"  # the browser resolves it to 127.0.0.1, as after an attack


@pytest.fixture
def start(tiny_generator, tmp_path):
    """``start(pixels_per_s=None)`` serves the page; a slower model when a speed is given."""
    bundled = os.environ.get("DEBLURGAN_SCREENSHOT_MODEL") == "bundled"
    with contextlib.ExitStack() as stack:

        def start_server(pixels_per_s: float | None = None):
            def make(options, on_stage=None):
                kwargs = {"precision": options.precision, "tile": options.tile}
                if bundled:
                    return Deblurrer.from_checkpoint(**kwargs)
                deblurrer = Deblurrer(tiny_generator, **kwargs)
                if pixels_per_s is None:
                    return deblurrer

                def slow(rgb):
                    time.sleep(rgb.shape[0] * rgb.shape[1] / pixels_per_s)
                    return deblurrer(rgb)

                return slow

            queue = JobQueue(make, workdir=tmp_path)
            port = free_port()
            settings = ServeSettings(
                {"bundled": None}, ("fp32",), port=port, methods=("network", "l0")
            )
            app = create_app(queue, settings)
            return stack.enter_context(serving(app, port)), queue

        yield start_server


@pytest.fixture
def browser():
    with chromium(f"--host-resolver-rules=MAP {REBINDING_NAME} 127.0.0.1") as driver:
        yield driver


def _loaded_compare(browser, wait):
    compare = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, ".job .compare"))
    wait.until(
        lambda d: d.execute_script(
            "return [...arguments[0].querySelectorAll('img')]"
            ".every(i => i.complete && i.naturalWidth)",
            compare,
        )
    )
    return compare


def test_upload_wait_slide_zoom_and_screenshot(start, browser, tmp_path):
    url, _ = start()
    browser.get(url)
    wait = WebDriverWait(browser, 120)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#model option"))
    assert browser.find_element(By.ID, "zip").get_attribute("href") is None  # nothing finished
    assert "Up to 512 MiB per file" in browser.find_element(By.ID, "limits").text
    assert "(at most 512 MiB)" in browser.execute_script("return uploadError(413)")  # one unit
    assert "Nothing has finished" in browser.find_element(By.ID, "zip-hint").text
    precision = browser.find_element(By.CSS_SELECTOR, "#precision option")
    assert precision.text == "Most exact"  # plain words, no codes
    assert "Built-in" in browser.find_element(By.CSS_SELECTOR, "#model option").text
    method = browser.find_element(By.ID, "method")  # the network's options apply to it alone
    method.find_element(By.CSS_SELECTOR, "option[value=l0]").click()
    assert not browser.find_element(By.ID, "precision").is_enabled()
    assert "shaking hand" in browser.find_element(By.ID, "method-detail").text
    method.find_element(By.CSS_SELECTOR, "option[value=network]").click()
    assert browser.find_element(By.ID, "precision").is_enabled()
    photo = REPO / "examples" / "blurry_coffee.jpg"
    browser.find_element(By.ID, "files").send_keys(str(photo))
    compare = _loaded_compare(browser, wait)
    card = browser.find_element(By.CSS_SELECTOR, ".job")
    assert card.get_attribute("data-status") == "done"
    assert card.find_element(By.CSS_SELECTOR, ".name").text == "blurry_coffee.jpg"
    assert card.find_element(By.CSS_SELECTOR, ".timing").text.startswith("took ")
    size = browser.execute_script(
        "const i = arguments[0].querySelector('img.after');"
        "return [i.naturalWidth, i.naturalHeight]",
        compare,
    )
    assert size == [600, 400]  # the upright preview of the 600x400 photo
    zip_link = browser.find_element(By.ID, "zip")
    assert zip_link.get_attribute("href").endswith("/api/results.zip")
    assert zip_link.text == "Download the result (zip)"

    slider = compare.find_element(By.CSS_SELECTOR, "input.slider")
    webdriver.ActionChains(browser).click_and_hold(slider).move_by_offset(
        -120, 0
    ).release().perform()
    stage = compare.find_element(By.CSS_SELECTOR, ".stage")
    position = float(_style(browser, stage, "--pos").rstrip("%"))
    assert 0 < position < 50 and float(slider.get_attribute("value")) == position  # dragged left

    # dragging on the photo itself moves the divider to the pointer
    width = stage.rect["width"]
    webdriver.ActionChains(browser).move_to_element_with_offset(
        stage, -width * 0.3, 0
    ).click_and_hold().move_by_offset(width * 0.5, 0).release().perform()
    position = float(_style(browser, stage, "--pos").rstrip("%"))
    assert abs(position - 70) < 2 and float(slider.get_attribute("value")) == position

    # zoom keeps the point under the pointer in place (here near the bottom-right corner)
    viewport = compare.find_element(By.CSS_SELECTOR, ".viewport")
    point = (0.8 * viewport.rect["width"], 0.8 * viewport.rect["height"])
    before = _photo_point_under(browser, viewport, stage, point)
    browser.execute_script(
        "const [v, x, y] = arguments; const box = v.getBoundingClientRect();"
        "v.dispatchEvent(new PointerEvent('pointermove', {clientX: box.left + x,"
        " clientY: box.top + y, bubbles: true}));"
        "const z = v.parentNode.querySelector('input.zoom');"
        "z.value = 2; z.dispatchEvent(new Event('input'))",
        viewport,
        *point,
    )
    assert _style(browser, stage, "--zoom") == "2"
    assert abs(stage.rect["width"] - 2 * width) < 2
    after = _photo_point_under(browser, viewport, stage, point)
    assert abs(after[0] - before[0]) < 0.01 and abs(after[1] - before[1]) < 0.01, (before, after)
    assert browser.execute_script("return arguments[0].scrollLeft", viewport) > 0  # not top-left

    download = card.find_element(By.CSS_SELECTOR, "a.download")
    assert download.get_attribute("download") == "blurry_coffee_sharp.jpg"
    browser.execute_script(
        "const z = arguments[0]; z.value = 1; z.dispatchEvent(new Event('input'))",
        compare.find_element(By.CSS_SELECTOR, "input.zoom"),
    )
    browser.execute_script("window.scrollTo(0, 0)")
    shot = Path(os.environ.get("DEBLURGAN_SCREENSHOT", tmp_path / "page.png"))
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    assert not _console_errors(browser)  # no script or style refused by the page's own policy

    (tmp_path / "notes.txt").write_text("not a photo")  # a failed card keeps no empty bar
    browser.find_element(By.ID, "files").send_keys(str(tmp_path / "notes.txt"))
    failed = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, ".job[data-status=failed]"))
    assert "cannot read .txt files" in failed.find_element(By.CSS_SELECTOR, ".error").text
    assert not failed.find_element(By.CSS_SELECTOR, "progress").is_displayed()


def test_portrait_fits_progress_moves_and_a_reload_shows_the_job(start, browser, tmp_path):
    """A 690x1200 photo with a model at 300,000 pixels per second (about 3 s)."""
    url, _ = start(pixels_per_s=300_000)
    browser.set_window_size(1100, 900)
    y, x = np.mgrid[0:1200, 0:690]
    pixels = np.stack([x % 256, y % 256, (x + y) % 256], -1).astype(np.uint8)
    Image.fromarray(pixels).save(tmp_path / "portrait.jpg", quality=90)
    browser.get(url)
    wait = WebDriverWait(browser, 120)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#model option"))
    browser.find_element(By.ID, "files").send_keys(str(tmp_path / "portrait.jpg"))

    seen, deadline = [], time.time() + 60
    while time.time() < deadline:
        state = browser.execute_script(
            "const c = document.querySelector('.job'); if (!c) return null;"
            "const p = c.querySelector('progress');"
            "return [c.dataset.status, p.hasAttribute('value') ? p.value : null,"
            " c.querySelector('.timing').textContent]"
        )
        if state and state[0] == "done":
            break
        if state and state[0] == "running":
            seen.append(state)
        time.sleep(0.15)
    values = [value for _, value, _ in seen if value is not None and 0 < value < 1]
    assert len(set(values)) >= 3 and values == sorted(values), seen  # the bar moves
    assert any("so far" in text and "estimate" in text for _, _, text in seen), seen

    compare = _loaded_compare(browser, wait)
    _assert_fits(browser, compare)
    browser.refresh()  # the server keeps the job for this browser's cookie
    compare = _loaded_compare(browser, wait)
    cards = browser.find_elements(By.CSS_SELECTOR, ".job")
    assert [c.find_element(By.CSS_SELECTOR, ".name").text for c in cards] == ["portrait.jpg"]
    assert cards[0].get_attribute("data-status") == "done"
    assert browser.find_element(By.ID, "zip").get_attribute("href").endswith("/results.zip")
    _assert_fits(browser, compare)

    browser.set_window_size(420, 900)  # a phone: nothing sideways, the zoom control whole
    wait.until(lambda d: d.execute_script("return window.innerWidth") <= 420)
    _next_frame(browser)  # the page refits in its resize handlers, before the next paint
    overflowing = browser.execute_script(
        "const width = document.documentElement.clientWidth;"
        "if (document.documentElement.scrollWidth <= width) return [];"
        "return [...document.body.querySelectorAll('*')]"
        ".filter(e => e.getBoundingClientRect().right > width + 0.5)"
        ".map(e => e.tagName + '.' + e.className + ' ' + e.getBoundingClientRect().right)"
    )
    assert not overflowing, overflowing
    zoom = compare.find_element(By.CSS_SELECTOR, "input.zoom")
    assert zoom.rect["x"] >= 0 and zoom.rect["x"] + zoom.rect["width"] <= 420
    _assert_fits(browser, compare)
    assert not _console_errors(browser)


def test_other_origins_cannot_read_the_jobs(start, browser, tmp_path):
    url, queue = start()
    port = int(url.rstrip("/").rsplit(":", 1)[1])
    secret = tmp_path / "upload.png"
    Image.new("RGB", (8, 8)).save(secret)
    queue.submit("secret-holiday.png", secret, JobOptions())  # a job of a script (no cookie)
    browser.set_script_timeout(30)
    fetch = (
        "const [target, done] = [arguments[0], arguments[arguments.length - 1]];"
        "fetch(target, {credentials: 'include'})"
        ".then(r => r.text().then(t => done([r.status, t])))"
        ".catch(e => done(['blocked', String(e)]))"
    )
    # another website on this computer (another port): the browser refuses to hand it the reply
    with _other_site() as other:
        browser.get(other)
        status, text = browser.execute_async_script(fetch, f"{url}api/jobs")
        assert status == "blocked" and "secret-holiday" not in text
        browser.execute_async_script(  # a form post needs no permission to be sent
            "const done = arguments[arguments.length - 1]; const f = new FormData();"
            "f.append('files', new Blob(['x']), 'spam.png');"
            "fetch(arguments[0], {method: 'POST', body: f, mode: 'no-cors'})"
            ".then(() => done('sent'), e => done(String(e)))",
            f"{url}api/jobs",
        )
        assert [j.name for j in queue.jobs()] == ["secret-holiday.png"]  # the server refused it
    # DNS rebinding: a page of another name that now resolves to this computer
    browser.get(f"http://{REBINDING_NAME}:{port}/")
    assert "does not answer" in browser.page_source
    status, text = browser.execute_async_script(fetch, "/api/jobs")
    assert status == 421 and "secret-holiday" not in text
    status, text = browser.execute_async_script(fetch, "/api/results.zip")
    assert status == 421


@contextlib.contextmanager
def _other_site():
    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the standard library's name
            body = b"<!doctype html><title>another site</title>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()


def _next_frame(browser):
    """Returns once the browser has rendered a frame (resize handlers and observers run)."""
    browser.execute_async_script("requestAnimationFrame(() => requestAnimationFrame(arguments[0]))")


def _assert_fits(browser, compare):
    """At zoom 1 the whole photo is in view, and its slider and download button are on screen
    once the card's top is."""
    viewport = compare.find_element(By.CSS_SELECTOR, ".viewport")
    fits = browser.execute_script(
        "const v = arguments[0];"
        "return v.scrollHeight <= v.clientHeight + 1 && v.scrollWidth <= v.clientWidth + 1",
        viewport,
    )
    assert fits
    stage = compare.find_element(By.CSS_SELECTOR, ".stage")
    ratio = stage.rect["height"] / stage.rect["width"]
    assert abs(ratio - 1200 / 690) < 0.02 or abs(ratio - 400 / 600) < 0.02
    card = compare.find_element(By.XPATH, "./ancestor::article")
    browser.execute_script("arguments[0].scrollIntoView(true)", card)
    height = browser.execute_script("return window.innerHeight")
    for selector in ("input.slider", "a.download"):
        element = card.find_element(By.CSS_SELECTOR, selector)
        top = browser.execute_script("return arguments[0].getBoundingClientRect().bottom", element)
        assert top <= height, (selector, top, height)


def _photo_point_under(browser, viewport, stage, point):
    """The point of the photo (fractions of its width and height) under ``point`` of the view."""
    return browser.execute_script(
        "const [v, s, x, y] = arguments; const vb = v.getBoundingClientRect();"
        "const sb = s.getBoundingClientRect();"
        "return [(vb.left + x - sb.left) / sb.width, (vb.top + y - sb.top) / sb.height]",
        viewport,
        stage,
        *point,
    )


def _console_errors(browser):
    return [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]


def _style(browser, element, name):
    return browser.execute_script(
        "return getComputedStyle(arguments[0]).getPropertyValue(arguments[1]).trim()",
        element,
        name,
    )
