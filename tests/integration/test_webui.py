"""The web page's serving side, in-process: /ui/ is public static content
(no token, every preset), carries a CSP without inline script, is shipped
in the package, can be switched off; /access states what a token may do,
decided as the guard decides."""
from __future__ import annotations

import os
import re

import pytest

from podproxy.app import create_app
from podproxy.security import policy
from podproxy.settings import Settings
from podproxy.web.catalog import access_classes

ADMIN = "admin-token-0123456789abcdef"
READER = "reader-token-0123456789abcdef"
UI_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "podproxy", "ui")


@pytest.fixture
def tokens(tmp_path):
    path = tmp_path / "tokens"
    path.write_text("admin %s\nreader %s read-only\n" % (ADMIN, READER))
    path.chmod(0o600)
    return str(path)


def secured(store, tokens, **settings):
    return create_app({"TESTING": True}, settings=Settings(podman_option=list(store.options), token_file=tokens,
                                                           **settings)).test_client()


def bearer(token):
    return {"Authorization": "Bearer " + token}


def test_page_is_public_and_runs_no_podman(store, tokens):
    client = secured(store, tokens, policy="read-only")
    for target in ["/ui/", "/ui/app.js", "/ui/style.css", "/ui/icon.svg"]:
        r = client.get(target)
        assert r.status_code == 200, target
        assert r.data
    assert client.application.extensions["podproxy"].runner.calls == 0
    # the API itself still needs the token
    assert client.get("/v4.3.1/libpod/images/json").status_code == 401
    assert client.get("/access").status_code == 401


def test_content_types_and_security_headers(store, tokens):
    client = secured(store, tokens)
    types = {"/ui/": "text/html", "/ui/app.js": "text/javascript", "/ui/style.css": "text/css",
             "/ui/icon.svg": "image/svg+xml"}
    for target, kind in types.items():
        r = client.get(target)
        assert r.mimetype == kind, target
        csp = r.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "frame-ancestors 'none'" in csp and "connect-src 'self'" in csp
        assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_html_has_no_inline_script_or_style_and_relative_links():
    with open(os.path.join(UI_DIR, "index.html")) as f:
        html = f.read()
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all('src="' in attrs and not body.strip() for attrs, body in scripts)
    assert not re.search(r"\son\w+=", html), "inline event handler"
    assert not re.search(r"\sstyle=", html) and "<style" not in html
    for url in re.findall(r'(?:src|href)="([^"#]+)"', html):
        assert not url.startswith(("/", "http:", "https:", "//")), url  # relative to /ui/: works under a prefix


def test_bare_ui_redirects_relative_and_no_traversal(store, tokens):
    client = secured(store, tokens)
    r = client.get("/ui")
    assert r.status_code == 308 and r.headers["Location"] == "ui/"
    for target in ["/ui/../setup.cfg", "/ui/%2e%2e/app.py", "/ui/..%2fapp.py", "/ui/nope.js"]:
        r = client.get(target)
        assert r.status_code == 404, target


def test_ui_off_is_not_served(store, tokens):
    client = secured(store, tokens, ui=False)
    assert client.get("/ui/").status_code == 401  # no public route any more: just an unknown path
    r = client.get("/ui/", headers=bearer(ADMIN))
    assert r.status_code == 404 and r.mimetype == "text/plain"


def test_public_routes_are_allowed_by_every_preset(app):
    classes = access_classes(app)
    public = {key for key, access in classes.items() if access == policy.PUBLIC}
    assert public >= {("GET", "/ui/"), ("GET", "/ui/{filename}")}
    for preset in policy.PRESETS:
        for method, key in public:
            assert policy.preset_allows(preset, classes[(method, key)])
    assert classes[("GET", "/access")] == policy.READ


def test_access_states_the_tokens_policy(store, tokens):
    client = secured(store, tokens)
    reader = client.get("/access", headers=bearer(READER)).get_json()
    assert reader["token"] == "reader" and reader["policy"] == "read-only" and reader["authentication"] is True
    assert "GET /libpod/images/json" in reader["allowed"]
    for write in ["POST /libpod/images/pull", "DELETE /libpod/images/{name}", "POST /libpod/images/{name}/tag",
                  "GET /libpod/images/{name}/get", "POST /libpod/images/load", "POST /libpod/images/prune"]:
        assert write not in reader["allowed"]
    admin = client.get("/access", headers=bearer(ADMIN)).get_json()
    assert admin["token"] == "admin" and admin["policy"] == "full"
    assert set(reader["allowed"]) < set(admin["allowed"])
    assert "POST /libpod/images/pull" in admin["allowed"]


def test_access_matches_what_the_guard_does(store, tokens):
    """Every route /access calls allowed passes the policy, every other is 403."""
    client = secured(store, tokens)
    allowed = set(client.get("/access", headers=bearer(READER)).get_json()["allowed"])
    runner = client.application.extensions["podproxy"].runner
    for route in client.application.extensions["podproxy"].router.routes:
        path = route.template.replace("{version:%s}" % r"[0-9][0-9A-Za-z.-]*", "4.3.1")
        path = re.sub(r"\{name(:[^}]*)?\}", "nope-ui", path)
        if route.queries:  # a route that needs query keys (compat /images/create) is a 405 without them
            path += "?" + "&".join("%s=x" % key for key in route.queries)
        for method in route.methods:
            if method == "GET" and route.key == "/libpod/images/search":
                continue  # allowed would reach out to registries; not allowed here anyway
            if "%s %s" % (method, route.key) in allowed:
                continue  # reads: allowed, checked by the test above
            calls = runner.calls
            r = client.open(path, method=method, headers=bearer(READER))
            assert r.status_code == 403, (method, route.key, r.status_code)
            assert runner.calls == calls


def test_access_without_tokens(store):
    client = create_app({"TESTING": True}, settings=Settings(podman_option=list(store.options),
                                                             policy="no-export")).test_client()
    body = client.get("/access").get_json()
    assert body["authentication"] is False and body["token"] is None and body["policy"] == "no-export"
    assert "POST /libpod/images/pull" in body["allowed"] and "GET /libpod/images/{name}/get" not in body["allowed"]


def test_a_wheel_ships_the_page(tmp_path):
    """A non-editable install has every file of podproxy/ui/ (setup.cfg
    package_data), built from a copy as test_deploy_files does."""
    import shutil
    import subprocess
    import sys
    import zipfile

    root = os.path.join(os.path.dirname(__file__), "..", "..")
    src = tmp_path / "src"
    src.mkdir()
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(os.path.join(root, name), src / name)
    shutil.copytree(os.path.join(root, "podproxy"), src / "podproxy", ignore=shutil.ignore_patterns("__pycache__"))
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(src)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    names = set(zipfile.ZipFile(next(tmp_path.glob("podproxy-*.whl"))).namelist())
    files = sorted(os.listdir(UI_DIR))
    assert {"index.html", "app.js", "style.css", "icon.svg"} <= set(files)
    for name in files:
        assert "podproxy/ui/" + name in names, name
    assert "podproxy/handlers/webui.py" in names
