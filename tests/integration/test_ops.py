"""/healthz, /readyz, /metrics and the per-request log line, in-process
against the real podman (a fake one only to hang or be missing)."""
import json
import logging
import stat
import textwrap

import pytest
from conftest import make_app
from helpers import metric as sample

from podproxy.observability.access import format_line
from podproxy.web.routing import route_key as route_label


def scrape(client) -> str:
    with client.get("/metrics") as resp:
        assert resp.status_code == 200
        assert resp.content_type.startswith("text/plain")
        return resp.get_data(as_text=True)


def get(client, target):
    with client.get(target) as resp:  # closing the answer ends the record
        return resp.status_code, resp.get_data()


def test_healthz_runs_no_podman(store):
    app = make_app(store, podman="/nonexistent/podman")
    status, body = get(app.test_client(), "/healthz")
    assert status == 200 and json.loads(body) == {"status": "ok"}
    assert app.extensions["podproxy"].runner.calls == 0


def test_readyz_ready_with_podmans_version(client):
    status, body = get(client, "/readyz")
    assert status == 200
    assert json.loads(body) == {"status": "ready", "podman": "4.3.1"}


def test_readyz_503_when_podman_is_missing(store):
    status, body = get(make_app(store, podman="/nonexistent/podman").test_client(), "/readyz")
    assert status == 503
    assert json.loads(body)["status"] == "unavailable"
    assert "podman not found" in json.loads(body)["reason"]


def test_readyz_503_when_podman_hangs(store, tmp_path):
    fake = tmp_path / "podman"
    fake.write_text("#!/bin/sh\nsleep 30\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    status, body = get(make_app(store, podman=str(fake), ready_timeout=0.5).test_client(), "/readyz")
    assert status == 503
    assert "timed out after 0.5s" in json.loads(body)["reason"]


def test_readyz_503_when_podman_fails(store, tmp_path):
    fake = tmp_path / "podman"
    fake.write_text(textwrap.dedent("""\
        #!/bin/sh
        echo 'Error: cannot connect to the storage' >&2
        exit 125
    """))
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    status, body = get(make_app(store, podman=str(fake)).test_client(), "/readyz")
    assert status == 503 and json.loads(body)["reason"] == "cannot connect to the storage"


def test_ops_routes_carry_no_podman_headers(client):
    with client.get("/healthz") as resp:
        assert "Libpod-Api-Version" not in resp.headers


def test_metrics_count_what_the_requests_did(store):
    from conftest import make_app

    client = make_app(store, cache=False).test_client()  # every read runs podman: invocations are counted
    before = scrape(client)
    route = "/v{version}/libpod/images/{name}/exists"
    for _ in range(3):
        assert get(client, "/v4.3.1/libpod/images/nothing:here/exists")[0] == 404
    assert get(client, "/v4.3.1/libpod/images/%s/exists" % store.base_id)[0] == 204
    status, body = get(client, "/v4.3.1/libpod/images/%s/json" % store.base_id)
    assert status == 200
    after = scrape(client)

    def delta(name, **labels):
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert delta("podproxy_http_requests_total", method="GET", route=route, status="404") == 3
    assert delta("podproxy_http_requests_total", method="GET", route=route, status="204") == 1
    assert delta("podproxy_http_request_duration_seconds_count", method="GET", route=route) == 4
    assert delta("podproxy_podman_invocations_total", subcommand="image exists", exit_code="1") == 3
    assert delta("podproxy_podman_invocations_total", subcommand="image exists", exit_code="0") == 1
    assert delta("podproxy_podman_invocations_total", subcommand="image inspect", exit_code="0") == 1
    # 3 error bodies + the inspect body (+ the previous /metrics answer, sent before the second scrape)
    out = delta("podproxy_http_bytes_total", direction="out")
    assert out >= len(body) + 3 * len(b'{"cause":"failed to find image nothing:here"}')
    # none of these is a transfer (the gauge is per process: earlier in-process tests may hold unclosed ones)
    assert delta("podproxy_transfers_in_flight") == 0


def test_one_json_log_line_per_request(store, caplog):
    client = make_app(store, log_format="json").test_client()
    with (caplog.at_level(logging.INFO, logger="podproxy.access"),
          client.get("/v4.3.1/libpod/images/nothing:here/exists", headers={"X-Reference-Id": "abc-1"}) as resp):
        assert resp.status_code == 404
    lines = [r.getMessage() for r in caplog.records if r.name == "podproxy.access"]
    assert len(lines) == 1
    line = json.loads(lines[0])
    assert line["route"] == "/v{version}/libpod/images/{name}/exists"
    assert line["status"] == 404 and line["method"] == "GET"
    assert line["request_id"] == "abc-1"
    assert line["podman_exit"] == 1  # image exists: 1 = not there
    assert line["bytes_out"] == len(resp.get_data())
    assert line["target"] == "/v4.3.1/libpod/images/nothing:here/exists"
    assert line["duration_ms"] > 0 and line["complete"] is True


def test_log_line_counts_uploaded_and_streamed_bytes(caplog):
    """Bytes in are what the app read (chunked too), bytes out what went out."""
    from werkzeug.test import Client

    from podproxy.observability.access import Observed

    def upload_app(environ, start_response):
        data = environ["wsgi.input"].read()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return iter([b"got ", str(len(data)).encode()])

    client = Client(Observed(upload_app, "json"))
    with (caplog.at_level(logging.INFO, logger="podproxy.access"),
          client.post("/v4/libpod/images/load", data=b"x" * 100_000) as resp):
        assert resp.get_data() == b"got 100000"
    line = json.loads([r.getMessage() for r in caplog.records if r.name == "podproxy.access"][-1])
    assert line["bytes_in"] == 100_000 and line["bytes_out"] == 10
    assert line["route"] == "unmatched" and line["complete"] is True


def test_text_log_line():
    fields = {"remote": "127.0.0.1", "method": "GET", "target": "/_ping", "status": 200, "bytes_out": 2,
              "route": "/_ping", "duration_ms": 1.5, "bytes_in": 0, "podman_exit": None, "request_id": "-",
              "complete": True}
    assert format_line(fields, "text") == ('127.0.0.1 "GET /_ping" 200 2 route=/_ping duration_ms=1.5 bytes_in=0 '
                                           'podman_exit=- request_id=- complete=True')


def test_route_labels_are_templates():
    assert route_label("/v{version:[0-9][0-9A-Za-z.-]*}/libpod/images/{name:.*}/json") == \
        "/v{version}/libpod/images/{name}/json"


@pytest.mark.parametrize("value", ["xml", ""])
def test_log_format_is_checked(value):
    from podproxy.cli import build_parser, settings_from_args

    if value == "":
        assert settings_from_args(build_parser().parse_args(["serve"]), environ={}).log_format == "text"
        return
    with pytest.raises(ValueError):
        settings_from_args(build_parser().parse_args(["serve"]), environ={"PODPROXY_LOG_FORMAT": value})
