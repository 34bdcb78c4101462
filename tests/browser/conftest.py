"""Fixtures for the web page's tests: a live podproxy (gunicorn, tokens) on
an isolated store with real images, and Debian's chromium driven headless
by selenium through Debian's chromium-driver (nothing is downloaded).

Each test gets the same browser with a clean tab state: ``open_page(token)``
loads ``/ui/`` with ``token`` in the tab's session storage (as the sign-in
form leaves it)."""
from __future__ import annotations

import os
import shutil
import tempfile
import time

import pytest
from helpers import start_podproxy

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

ADMIN = "ui-admin-token-0123456789abcdef"
READER = "ui-reader-token-0123456789abcdef"

BASE = "localhost/demo/base:1"
CHILD = "localhost/demo/web:2"
OTHER = "quay.io/example/tools:latest"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.podman)


def build_child(store, base: str, ref: str, label: str) -> str:
    """An image on top of ``base`` (shares its layer): COPY and LABEL need no runtime."""
    ctx = tempfile.mkdtemp(dir=store.path)
    try:
        with open(os.path.join(ctx, "page.html"), "w") as f:
            f.write("<p>hello</p>\n" * 400)
        with open(os.path.join(ctx, "Containerfile"), "w") as f:
            f.write("FROM %s\nCOPY page.html /srv/page.html\nENV MODE=demo\nLABEL %s\nCMD [\"/bin/busybox\", \"httpd\", \"-f\"]\n"
                    % (base, label))
        return store.out("build", "-q", "-t", ref, ctx).strip().split()[-1]
    finally:
        shutil.rmtree(ctx, ignore_errors=True)


@pytest.fixture(scope="session")
def ui_store():
    """Images for the page: a base, one built on it (a shared layer), one
    unrelated, and a dangling one (its name moved to a newer image)."""
    from helpers import Store

    s = Store.create()
    s.base_id = s.make_image(BASE, changes=["LABEL app=demo", "ENV PATH=/bin"])
    s.child_id = build_child(s, BASE, CHILD, "tier=web")
    s.dangling_id = s.make_image("localhost/demo/old:1", marker="old one")
    s.make_image("localhost/demo/old:1", marker="new one")
    s.other_id = s.make_image(OTHER)
    yield s
    s.destroy()


@pytest.fixture(scope="session")
def ui_server(ui_store, tmp_path_factory):
    tokens = tmp_path_factory.mktemp("ui-tokens") / "tokens"
    tokens.write_text("admin %s\nreader %s read-only\n" % (ADMIN, READER))
    tokens.chmod(0o600)
    server = start_podproxy(ui_store, "--token-file", str(tokens), threads=16,
                            headers={"Authorization": "Bearer " + ADMIN})
    server.base = "http://127.0.0.1:%d" % server.port
    yield server
    server.stop()


@pytest.fixture(scope="session")
def downloads(tmp_path_factory):
    return str(tmp_path_factory.mktemp("ui-downloads"))


def chrome(downloads: str, profile: str, width=1280, height=800):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--user-data-dir=" + profile, "--window-size=%d,%d" % (width, height)):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"download.default_directory": downloads,
                                              "download.prompt_for_download": False})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    # the viewport itself, not the window (headless windows have a minimum width)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    return driver


@pytest.fixture(scope="session")
def driver(downloads):
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        raise RuntimeError("the browser tests need Debian's chromium: apt-get install -y chromium chromium-driver")
    profile = tempfile.mkdtemp(prefix="podproxy-chromium-")
    d = chrome(downloads, profile)
    yield d
    d.quit()
    shutil.rmtree(profile, ignore_errors=True)


class Page:
    """The page in the browser, with waits bounded by ``timeout``."""

    def __init__(self, driver, server, timeout=30):
        self.d, self.server, self.timeout = driver, server, timeout

    def open(self, token=ADMIN, hash_="#/"):
        self.d.get(self.server.base + "/ui/")
        self.d.execute_script("sessionStorage.clear(); if (arguments[0]) sessionStorage.setItem('podproxy.token', arguments[0]);",
                              token)
        self.d.get(self.server.base + "/ui/" + hash_)
        self.d.refresh()
        return self

    def wait(self, predicate, what="", timeout=None):
        from selenium.webdriver.support.ui import WebDriverWait

        try:
            return WebDriverWait(self.d, timeout or self.timeout, poll_frequency=0.1).until(lambda d: predicate())
        except Exception as e:  # TimeoutException: say what was awaited
            raise AssertionError("timed out waiting for %s: %s" % (what or predicate, e)) from None

    def css(self, sel):
        from selenium.webdriver.common.by import By

        return self.d.find_elements(By.CSS_SELECTOR, sel)

    def one(self, sel):
        found = self.wait(lambda: self.css(sel), sel)
        return found[0]

    def text(self, sel) -> str:
        found = self.css(sel)
        return found[0].text if found else ""

    def visible(self, sel) -> bool:
        return any(e.is_displayed() for e in self.css(sel))

    def rows(self):
        """The list's rows as (id, names, bytes, containers), in shown order."""
        return self.d.execute_script("""
            return Array.from(document.querySelectorAll('#images tbody tr')).map(tr => [
              tr.dataset.id, Array.from(tr.querySelectorAll('a.name')).map(a => a.textContent),
              Number(tr.children[2].dataset.bytes), Number(tr.children[4].textContent)]);""")

    def list_loaded(self, count=None):
        def ready():
            shown = self.visible("#list-view") and self.css("#images tbody tr")
            return bool(shown) and (count is None or len(self.rows()) == count)
        self.wait(ready, "the image list")
        return self.rows()

    def console_errors(self):
        return [e for e in self.d.get_log("browser") if e["level"] == "SEVERE"]


@pytest.fixture
def page(driver, ui_server):
    driver.get_log("browser")  # drop what earlier tests logged
    p = Page(driver, ui_server)
    yield p
    time.sleep(0)  # nothing to clean: each test opens the page afresh
