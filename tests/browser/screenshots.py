"""Make the README's screenshots of the web page (docs/ui-list.png and
docs/ui-image.png, 1280x800) from a demo store, and narrow (400 px) ones
in a temp dir to look at::

    .venv/bin/python tests/browser/screenshots.py [NARROW_DIR]

Uses the same fixtures' helpers as the browser tests (an isolated store,
a live podproxy, headless chromium)."""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.dirname(HERE), os.path.dirname(os.path.dirname(HERE))]

from helpers import Store, random_rootfs, start_podproxy  # noqa: E402

from browser.conftest import ADMIN, BASE, CHILD, OTHER, Page, build_child, chrome  # noqa: E402

DOCS = os.path.join(os.path.dirname(os.path.dirname(HERE)), "docs")


def demo_store() -> Store:
    s = Store.create()
    s.base_id = s.make_image(BASE, changes=["LABEL app=demo", "ENV PATH=/bin"])
    s.child_id = build_child(s, BASE, CHILD, "tier=web")
    s.out("tag", CHILD, "localhost/demo/web:latest")
    build_child(s, CHILD, "localhost/demo/web-debug:2", "tier=debug")
    s.make_image("localhost/demo/api:0.9", marker="old api")
    s.make_image("localhost/demo/api:0.9", marker="new api")  # the old one is now dangling
    s.make_image(OTHER)
    tar = random_rootfs(os.path.join(s.path, "data.tar"), 6 << 20)
    s.out("import", "-q", tar, "localhost/demo/dataset:2024")
    os.unlink(tar)
    s.create_container(CHILD, "web-1")
    return s


def main(narrow_dir: str) -> None:
    store = demo_store()
    server = driver = None
    tokens = os.path.join(store.path, "tokens")
    with open(tokens, "w") as f:
        f.write("demo %s\n" % ADMIN)
    os.chmod(tokens, 0o600)
    try:
        server = start_podproxy(store, "--token-file", tokens, headers={"Authorization": "Bearer " + ADMIN})
        server.base = "http://127.0.0.1:%d" % server.port
        for width, out in ((1280, DOCS), (400, narrow_dir)):
            profile = tempfile.mkdtemp(prefix="podproxy-chromium-")
            try:
                driver = chrome(tempfile.gettempdir(), profile, width, 800)
                page = Page(driver, server)
                page.open()
                page.list_loaded()
                page.wait(lambda: page.css(".disk-row svg.bar"), "the disk picture")  # noqa: B023 (called at once)
                time.sleep(0.5)
                driver.save_screenshot(os.path.join(out, "ui-list.png"))
                page.open(hash_="#/image/" + store.child_id)
                page.wait(lambda: len(page.css("svg.tree")) == 2 and page.css("table.history"),  # noqa: B023 (called at once)
                          "the image page")
                time.sleep(0.5)
                driver.save_screenshot(os.path.join(out, "ui-image.png"))
                driver.execute_script("window.scrollTo(0, 700)")
                driver.save_screenshot(os.path.join(narrow_dir, "ui-image-%d-more.png" % width))
                driver.execute_script("window.scrollTo(0, 1500)")
                driver.save_screenshot(os.path.join(narrow_dir, "ui-image-%d-end.png" % width))
            finally:
                if driver:
                    driver.quit()
                    driver = None
                shutil.rmtree(profile, ignore_errors=True)
    finally:
        if server:
            server.stop()
        store.destroy()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="podproxy-ui-narrow-"))
