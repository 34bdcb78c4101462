"""The answer cache (engine/cache.py): reads are served from memory, and a
change made to the store by anyone (here: the podman CLI directly, behind
podproxy's back) is seen by the very next read. Any stale answer fails."""
from __future__ import annotations

import threading

import pytest
from conftest import make_app
from helpers import start_podproxy

from podproxy.engine.cache import Storage

V = "/v4.3.1/libpod"
REPO = "localhost/podproxy/stale"


class ViaServer:
    """Reads through a running podproxy (gunicorn) over HTTP."""

    def __init__(self, server):
        self.http = server.http

    def get(self, path):
        reply = self.http.request("GET", V + path)
        return reply.status, (reply.json() if reply.headers.get("content-type") == "application/json" else None)


class ViaApp:
    """Reads through the Flask app (same engine, no server)."""

    def __init__(self, client):
        self.client = client

    def get(self, path):
        r = self.client.get(V + path)
        return r.status_code, r.get_json(silent=True)


def listed_tags(reader) -> set:
    status, body = reader.get("/images/json")
    return {tag for image in (body if status == 200 else []) for tag in image.get("RepoTags") or []}


def history_top(reader, name):
    status, body = reader.get("/images/%s/history" % name)
    return body[0]["Id"] if status == 200 and body else status


def warm(reader, *paths):
    """Ask twice: the second answer comes from the cache if anything does."""
    for _ in range(2):
        for path in paths:
            reader.get(path)


def stale_answers(store, reader, rounds):
    """Change the store with the podman CLI, read through podproxy at once
    (after warming the cache with the old answer); list what was stale."""
    stale = []

    def expect(what, got, want):
        if got != want:
            stale.append((what, got, want))

    base = store.make_image(REPO + ":base", marker="stale-base")
    for i in range(rounds):
        tag = "%s:t%d" % (REPO, i)
        warm(reader, "/images/%s/exists" % tag, "/images/%s/json" % base, "/images/%s/tree" % base, "/images/json")
        store.podman("tag", base, tag)
        expect("exists after tag", reader.get("/images/%s/exists" % tag)[0], 204)
        expect("RepoTags after tag", tag in (reader.get("/images/%s/json" % base)[1] or {}).get("RepoTags", []), True)
        expect("tree after tag", tag in (reader.get("/images/%s/tree" % base)[1] or {}).get("Tree", ""), True)
        expect("list after tag", tag in listed_tags(reader), True)

        warm(reader, "/images/%s/exists" % tag, "/images/%s/json" % tag)
        store.podman("untag", base, tag)
        expect("exists after untag", reader.get("/images/%s/exists" % tag)[0], 404)
        expect("json after untag", reader.get("/images/%s/json" % tag)[0], 404)

        new = "%s:new%d" % (REPO, i)
        warm(reader, "/images/%s/exists" % new, "/images/%s/json" % new, "/images/%s/history" % new, "/images/json")
        image = store.make_image(new, marker="stale-%d" % i)  # podman import
        expect("exists after import", reader.get("/images/%s/exists" % new)[0], 204)
        expect("Id after import", (reader.get("/images/%s/json" % new)[1] or {}).get("Id"), image)
        expect("history after import", history_top(reader, new), image)
        expect("list after import", new in listed_tags(reader), True)

        warm(reader, "/images/%s/exists" % new, "/images/%s/json" % image, "/images/%s/history" % image,
             "/images/json")
        store.podman("rmi", image)
        expect("exists after rm", reader.get("/images/%s/exists" % new)[0], 404)
        expect("json by ID after rm", reader.get("/images/%s/json" % image)[0], 404)
        expect("history after rm", reader.get("/images/%s/history" % image)[0], 404)
        expect("list after rm", new in listed_tags(reader), False)
    return stale


def test_never_stale_through_the_server(fresh_store):
    """Two workers (two caches), one more thread reading all the time so
    that answers are being taken while the CLI changes the store. The
    thread's reads must all succeed (an exception there fails the test)."""
    server = start_podproxy(fresh_store, workers=2, threads=4)
    stop = threading.Event()
    errors, reads = [], []

    def hammer():
        reader = ViaServer(server)
        try:
            while not stop.is_set():
                for path in ("/images/%s:base/json" % REPO, "/images/%s:t0/exists" % REPO):
                    status, _ = reader.get(path)
                    assert status in (200, 204, 404), (path, status)
                    reads.append(status)
        except BaseException as e:  # noqa: BLE001 - handed to the test below
            errors.append(e)

    thread = threading.Thread(target=hammer)
    try:
        reader = ViaServer(server)
        reader.get("/images/%s:base/exists" % REPO)
        thread.start()
        assert stale_answers(fresh_store, reader, rounds=6) == []
    finally:
        stop.set()
        if thread.is_alive():
            thread.join(timeout=60)
        server.stop()
    assert not thread.is_alive(), "the reading thread did not stop"
    assert errors == [], errors
    assert reads, "the reading thread read nothing"


def test_the_loop_catches_a_stale_cache(fresh_store, monkeypatch):
    """The loop above can fail: with a fingerprint that never changes, the
    cache answers from the past and the loop reports it."""
    monkeypatch.setattr(Storage, "fingerprint", lambda self: ("frozen",))
    reader = ViaApp(make_app(fresh_store).test_client())
    assert stale_answers(fresh_store, reader, rounds=1)


def test_reads_are_served_from_the_cache(fresh_store):
    fresh_store.make_image(REPO + ":1")
    app = make_app(fresh_store)
    runner, client = app.extensions["podproxy"].runner, app.test_client()
    for path in ("/images/%s:1/exists" % REPO, "/images/nope/exists", "/images/%s:1/json" % REPO,
                 "/images/%s:1/tree" % REPO, "/images/%s:1/history" % REPO, "/images/json"):
        first = client.get(V + path)
        calls = runner.calls
        again = [client.get(V + path) for _ in range(5)]
        assert runner.calls == calls, path  # no podman process for the repeats
        assert {(r.status_code, r.get_data()) for r in again} == {(first.status_code, first.get_data())}


def test_cache_off_runs_podman_every_time(fresh_store):
    fresh_store.make_image(REPO + ":1")
    app = make_app(fresh_store, cache=False)
    runner, client = app.extensions["podproxy"].runner, app.test_client()
    client.get(V + "/images/%s:1/exists" % REPO)
    calls = runner.calls
    for _ in range(3):
        assert client.get(V + "/images/%s:1/exists" % REPO).status_code == 204
    assert runner.calls == calls + 3


@pytest.mark.parametrize("info", [
    {"host": {"serviceIsRemote": True}, "store": {"graphRoot": "/x", "graphDriverName": "overlay"}},
    {"host": {}, "store": {"graphRoot": "/x", "graphDriverName": "overlay",
                           "graphOptions": {"overlay.imagestore": "/ro"}}},
])
def test_cache_stands_aside_when_the_store_is_not_ours_to_watch(info):
    assert Storage.from_info(info) is None


def test_fingerprint_covers_the_database_podman_uses(fresh_store):
    """podman 4 keeps libpod's state in libpod/bolt_state.db, podman 5 in
    db.sql (SQLite): a write to whichever this podman uses (and nothing
    else) changes the fingerprint."""
    import json
    import os

    fresh_store.make_image(REPO + ":1")
    fresh_store.create_container(REPO + ":1", "cache-db")
    info = json.loads(fresh_store.out("info", "--format", "json"))
    root = info["store"]["graphRoot"]
    databases = [p for p in (os.path.join(root, "db.sql"), os.path.join(root, "libpod", "bolt_state.db"))
                 if os.path.exists(p)]
    assert len(databases) == 1
    storage = Storage.from_info(info)
    before = storage.fingerprint()
    st = os.stat(databases[0])
    os.utime(databases[0], ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert storage.fingerprint() != before
