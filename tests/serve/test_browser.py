"""End to end in a real headless browser (Debian's chromium and chromedriver, via Selenium):
upload a photo on the page, wait for the result, move the before/after slider, zoom, and
take a screenshot. Skipped where no browser is installed (``.ci/run`` installs one).

``DEBLURGAN_SCREENSHOT=docs/serve.png python -m pytest tests/serve/test_browser.py`` with the
bundled model (``DEBLURGAN_SCREENSHOT_MODEL=bundled``) makes the README's picture.
"""

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

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
from deblurgan.serve.jobs import JobQueue  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def server(tiny_generator, tmp_path):
    bundled = os.environ.get("DEBLURGAN_SCREENSHOT_MODEL") == "bundled"

    def make(options):
        if bundled:
            return Deblurrer.from_checkpoint(precision=options.precision, tile=options.tile)
        return Deblurrer(tiny_generator, precision=options.precision, tile=options.tile)

    queue = JobQueue(make, workdir=tmp_path)
    app = create_app(queue, ServeSettings({"bundled": None}, ("fp32",)))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def browser():
    options = webdriver.ChromeOptions()
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1100,1300",
    ):
        options.add_argument(flag)
    options.binary_location = shutil.which("chromium")
    service = webdriver.ChromeService(executable_path=shutil.which("chromedriver"))
    driver = webdriver.Chrome(options=options, service=service)
    yield driver
    driver.quit()


def test_upload_wait_slide_zoom_and_screenshot(server, browser, tmp_path):
    browser.get(server)
    wait = WebDriverWait(browser, 120)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#model option"))
    photo = REPO / "examples" / "blurry_coffee.jpg"
    browser.find_element(By.ID, "files").send_keys(str(photo))
    compare = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, ".job .compare"))
    wait.until(
        lambda d: d.execute_script(
            "return [...arguments[0].querySelectorAll('img')]"
            ".every(i => i.complete && i.naturalWidth)",
            compare,
        )
    )
    card = browser.find_element(By.CSS_SELECTOR, ".job")
    assert card.get_attribute("data-status") == "done"
    assert card.find_element(By.CSS_SELECTOR, ".name").text == "blurry_coffee.jpg"
    size = browser.execute_script(
        "const i = arguments[0].querySelector('img.after');"
        "return [i.naturalWidth, i.naturalHeight]",
        compare,
    )
    assert size == [600, 400]  # the upright preview of the 600x400 photo
    slider = compare.find_element(By.CSS_SELECTOR, "input.slider")
    webdriver.ActionChains(browser).click_and_hold(slider).move_by_offset(
        -120, 0
    ).release().perform()
    stage = compare.find_element(By.CSS_SELECTOR, ".stage")
    position = float(_style(browser, stage, "--pos").rstrip("%"))
    assert 0 < position < 50 and float(slider.get_attribute("value")) == position  # dragged left
    browser.execute_script(
        "const z = arguments[0]; z.value = 2; z.dispatchEvent(new Event('input'))",
        compare.find_element(By.CSS_SELECTOR, "input.zoom"),
    )
    assert _style(browser, stage, "--zoom") == "2"
    download = card.find_element(By.CSS_SELECTOR, "a.download")
    assert download.get_attribute("download") == "blurry_coffee_sharp.jpg"
    browser.execute_script(
        "const z = arguments[0]; z.value = 1; z.dispatchEvent(new Event('input'))",
        compare.find_element(By.CSS_SELECTOR, "input.zoom"),
    )
    browser.execute_script("window.scrollTo(0, 0)")
    shot = Path(os.environ.get("DEBLURGAN_SCREENSHOT", tmp_path / "page.png"))
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000


def _style(browser, element, name):
    return browser.execute_script(
        "return getComputedStyle(arguments[0]).getPropertyValue(arguments[1]).trim()",
        element,
        name,
    )
