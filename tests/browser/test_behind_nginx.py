"""The page behind the shipped deploy/nginx.conf (nginx's plain loopback
listener, podproxy on a unix socket): its relative paths reach the API
through nginx, and a pull's progress streams through unbuffered."""
from __future__ import annotations

import os
import shutil
import tempfile
from types import SimpleNamespace

import pytest
from helpers import start_podproxy
from integration.test_nginx_front import NGINX, Nginx

from .conftest import Page

pytestmark = pytest.mark.skipif(not os.path.exists(NGINX), reason="nginx not installed (apt-get install nginx-light)")


@pytest.fixture(scope="module")
def behind_nginx(ui_store):
    """No tokens here (nginx's readiness probe is an anonymous /_ping): the
    page's sign-in is tested without nginx."""
    workdir = tempfile.mkdtemp(prefix="podproxy-ui-nginx-")
    sock = os.path.join(workdir, "podproxy.sock")
    proxy = start_podproxy(ui_store, "--bind", "unix:" + sock)
    nginx = None
    try:
        nginx = Nginx(workdir, sock, plain=True)
        yield SimpleNamespace(base="http://127.0.0.1:%d" % nginx.plain_port, nginx=nginx)
    finally:
        if nginx:
            nginx.stop()
        proxy.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def test_page_list_image_and_pull_through_nginx(driver, behind_nginx, ui_store, registry):
    page = Page(driver, behind_nginx)
    page.open(token=None)
    rows = page.list_loaded()
    assert ui_store.child_id in [r[0] for r in rows]
    ref = "%s/demo/via-nginx:1" % registry.address
    image_id = ui_store.make_image("localhost/demo/via-nginx:1", marker="through nginx")
    ui_store.out("push", "--tls-verify=false", image_id, ref)
    ui_store.out("rmi", "localhost/demo/via-nginx:1")
    page.one("#pull-open").click()
    box = page.one("#pull-ref")
    box.send_keys(ref)
    page.one("#pull-tls").click()
    page.one("#pull-go").click()
    page.wait(lambda: page.text("#pull-percent").startswith("100%"), "the pull through nginx", timeout=120)
    assert image_id in ui_store.image_ids()
    page.open(token=None, hash_="#/image/" + ui_store.child_id)
    page.wait(lambda: len(page.css("svg.tree")) == 2, "the image page through nginx")
    log = open(os.path.join(behind_nginx.nginx.dir, "access.log")).read()
    assert "GET /ui/app.js" in log and "POST /v4.3.1/libpod/images/pull?" in log
