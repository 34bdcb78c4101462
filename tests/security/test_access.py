"""Authentication and access policy through the app, with the real podman:
each preset against every route, wrong/missing/narrower tokens, the brake
on guessing, and ``serve`` refusing an unguarded public address."""
from __future__ import annotations

import base64
import subprocess
import sys
import time

import pytest
from helpers import free_port, start_podproxy

from podproxy import apidoc
from podproxy.security.policy import PRESETS, preset_allows
from podproxy.web.catalog import access_classes

from .conftest import ADMIN, NOEXPORT, READER

pytestmark = pytest.mark.podman

ERROR_KEYS = {"cause", "message", "response"}


def every_route():
    """(method, route name, a concrete path) for everything podproxy
    serves: podman's routes and podproxy's own (health, metrics)."""
    seen = set()
    for method, key, path, _view, params, _tag, _response in apidoc.operations():
        if (method, key) not in seen:
            seen.add((method, key))
            # a route that needs a query key (compat /images/create) is a 405 without it
            needed = "&".join("%s=x" % p["name"] for p in params if p["in"] == "query" and p.get("required"))
            path = path.replace("{version}", "4.3.1").replace("{name}", "nope-policy")
            yield method, key, path + ("?" + needed if needed else "")


@pytest.mark.parametrize("preset", PRESETS)
def test_each_preset_against_every_route(make_secured_app, preset):
    app = make_secured_app(policy=preset)
    client = app.test_client()
    runner = app.extensions["podproxy"].runner
    for method, key, path in every_route():
        calls = runner.calls
        r = client.open(path, method=method)
        allowed = preset_allows(preset, access_classes(app).get((method, key)))
        assert (r.status_code != 403) == allowed, (preset, method, key, r.status_code)
        if not allowed:
            assert set(r.get_json()) == ERROR_KEYS and r.get_json()["response"] == 403
            assert runner.calls == calls, "a denied request ran podman"


def test_missing_and_wrong_tokens_are_401_before_routing(make_secured_app, token_file):
    client = make_secured_app(token_file=token_file).test_client()
    for target in ["/v4.3.1/libpod/images/x/json", "/no/such/route", "/_ping"]:
        r = client.get(target)
        assert r.status_code == 401, target
        assert set(r.get_json()) == ERROR_KEYS and r.get_json()["message"].startswith("authentication required")
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
    r = client.get("/_ping", headers={"Authorization": "Bearer " + ADMIN[:-1] + "x"})
    assert r.status_code == 401 and r.get_json()["message"] == "invalid credentials"


def test_right_tokens_pass(make_secured_app, token_file, fresh_store):
    client = make_secured_app(token_file=token_file).test_client()
    fresh_store.make_image("localhost/podproxy/auth:1")
    basic = "Basic " + base64.b64encode(("reader:" + READER).encode()).decode()
    for header in ["Bearer " + ADMIN, "Bearer " + READER, basic]:
        assert client.get("/v4.3.1/libpod/images/localhost/podproxy/auth:1/exists",
                          headers={"Authorization": header}).status_code == 204


def test_a_narrower_token_is_denied_what_its_policy_denies(make_secured_app, token_file, fresh_store):
    client = make_secured_app(token_file=token_file).test_client()
    image = fresh_store.make_image("localhost/podproxy/keep:1")
    reader = {"Authorization": "Bearer " + READER}
    r = client.delete("/v4.3.1/libpod/images/remove", headers=reader)  # remove ALL, for an admin
    assert r.status_code == 403 and r.get_json()["cause"] == "access denied"
    assert client.post("/v4.3.1/libpod/images/prune?all=true", headers=reader).status_code == 403
    assert client.get("/v4.3.1/libpod/images/localhost/podproxy/keep:1/json", headers=reader).status_code == 200
    assert fresh_store.image_ids() == {image}
    r = client.post("/v4.3.1/libpod/images/prune?all=true", headers={"Authorization": "Bearer " + NOEXPORT})
    assert r.status_code == 200 and fresh_store.image_ids() == set()


def test_guessing_is_braked(make_secured_app, token_file):
    client = make_secured_app(token_file=token_file).test_client()
    statuses = [client.get("/_ping", headers={"Authorization": "Bearer guess-%d" % n}).status_code for n in range(12)]
    assert statuses[:10] == [401] * 10 and statuses[10:] == [429, 429]
    r = client.get("/_ping", headers={"Authorization": "Bearer guess-again"})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert set(r.get_json()) == ERROR_KEYS
    # the brake never refuses a right token (issue 11, point 11)
    assert client.get("/_ping", headers={"Authorization": "Bearer " + ADMIN}).status_code == 200


def test_forwarded_for_is_believed_only_from_trusted_proxies(make_secured_app, token_file):
    """Issue 11 point 11: from a trusted proxy the brake counts per
    X-Forwarded-For client; from anyone else X-Forwarded-For changes
    nothing, so a guesser cannot dodge the brake by writing a new one."""
    def attempt(client, peer, forwarded, token="guess-0123456789abcdef"):
        return client.get("/_ping", headers={"Authorization": "Bearer " + token, "X-Forwarded-For": forwarded},
                          environ_base={"REMOTE_ADDR": peer}).status_code

    behind = make_secured_app(token_file=token_file, forwarded_allow_ips=["10.0.0.1"]).test_client()
    assert [attempt(behind, "10.0.0.1", "1.2.3.4") for _ in range(11)] == [401] * 10 + [429]
    assert attempt(behind, "10.0.0.1", "5.6.7.8") == 401                 # another client behind the proxy
    assert attempt(behind, "10.0.0.1", "5.6.7.8, 1.2.3.4") == 429        # its own XFF entry is not believed
    assert attempt(behind, "10.0.0.1", "1.2.3.4", token=ADMIN) == 200

    direct = make_secured_app(token_file=token_file, forwarded_allow_ips=["10.0.0.1"]).test_client()
    spoofed = [attempt(direct, "192.0.2.7", "9.9.9.%d" % n) for n in range(11)]
    assert spoofed == [401] * 10 + [429]                                 # untrusted peer: XFF ignored


def test_rules_file_policy(make_secured_app, tmp_path, fresh_store):
    rules = tmp_path / "policy"
    rules.write_text("base read-only\ndeny GET /libpod/images/{name}/tree\nallow POST /libpod/images/{name}/untag\n")
    client = make_secured_app(policy=str(rules)).test_client()
    fresh_store.make_image("localhost/podproxy/rules:1")
    assert client.get("/v4.3.1/libpod/images/localhost/podproxy/rules:1/tree").status_code == 403
    assert client.get("/v4.3.1/libpod/images/localhost/podproxy/rules:1/json").status_code == 200
    assert client.post("/v4.3.1/libpod/images/localhost/podproxy/rules:1/untag").status_code == 201
    assert client.delete("/v4.3.1/libpod/images/localhost/podproxy/rules:1").status_code == 403


def test_policy_holds_however_the_path_is_spelled(make_secured_app):
    """The policy judges the route podman's routing picked: an escaped
    slash, another version prefix or a path that needs cleaning change
    nothing."""
    client = make_secured_app(policy="read-only").test_client()
    for target in ["/v4.3.1/libpod/images/a%2Fb", "/v0/libpod/images/remove", "/v4.3.1/libpod/images/remove?images=x",
                   "/v1.41-x/libpod/images/x%2F..%2Fremove"]:
        assert client.delete(target).status_code == 403, target
    r = client.delete("/v4.3.1/libpod/images/x/../remove")
    assert r.status_code == 301  # podman's redirect; the redirected request is judged again


def test_serve_refuses_public_address_without_tokens():
    port = free_port()
    proc = subprocess.run([sys.executable, "-m", "podproxy", "serve", "--bind", "0.0.0.0:%d" % port],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "refusing to listen on 0.0.0.0:%d without authentication" % port in proc.stderr
    assert "--token-file" in proc.stderr


def test_serve_refuses_a_bad_token_file(tmp_path):
    bad = tmp_path / "tokens"
    bad.write_text("admin short\n")
    proc = subprocess.run([sys.executable, "-m", "podproxy", "serve", "--bind", "127.0.0.1:%d" % free_port(),
                           "--token-file", str(bad)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "shorter than 16" in proc.stderr


def test_live_server_with_tokens(fresh_store, token_file):
    server = start_podproxy(fresh_store, "--token-file", token_file, "--policy", "no-export",
                            headers={"Authorization": "Bearer " + ADMIN})
    try:
        anonymous = server.http.request("GET", "/_ping", headers={"Authorization": ""})
        assert anonymous.status == 401 and anonymous.json()["response"] == 401
        assert server.http.request("GET", "/v4.3.1/libpod/version").status == 200
        r = server.http.request("GET", "/v4.3.1/libpod/images/x/get")
        assert r.status == 403 and r.json()["cause"] == "access denied"
        deadline = time.monotonic() + 10
        while "denied GET /libpod/images/{name}/get to admin by preset no-export" not in server.output():
            assert time.monotonic() < deadline, server.output()  # the denial is logged with the token's name
            time.sleep(0.1)
        assert ADMIN not in server.output()  # never the token itself
    finally:
        server.stop()
