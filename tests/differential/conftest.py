"""Differential fixtures: podproxy (under gunicorn) and podman's own
``podman system service`` on one isolated store, asked the same thing."""
from __future__ import annotations

import json
import re

import pytest
from helpers import Store, start_podproxy, start_reference

USED = "localhost/podproxy/used:1"
# gorilla/schema reports several bad keys from a Go map: which one it names
# first is random in podman itself, so that name is not compared.
_MULTI = re.compile(r'error converting value for \\"[^"\\]*\\" \(and')


def normalize(reply, ids=()):
    """Status, content type and body with the given IDs (and their 12-char
    short forms) replaced by placeholders."""
    body = reply.body.decode("utf-8", "replace")
    for n, full in enumerate(ids):
        body = body.replace(full, "<ID%d>" % n).replace(full[:12], "<ID%d>" % n)
    body = _MULTI.sub('error converting value for \\"<key>\\" (and', body)
    ctype = reply.headers.get("content-type")
    try:
        parsed = json.loads(body) if ctype == "application/json" and body.count("\n") <= 1 else body
    except ValueError:
        parsed = body
    return reply.status, ctype, parsed


class Pair:
    """Send one request to both servers and compare what comes back."""

    def __init__(self, ref, proxy, store):
        self.ref, self.proxy, self.store = ref, proxy, store

    def both(self, method, target, body=None, headers=None):
        ref = self.ref.http.request(method, target, body=body, headers=headers)
        proxy = self.proxy.http.request(method, target, body=body, headers=headers)
        return ref, proxy

    def same(self, method, target, ids=(), **kw):
        ref, proxy = self.both(method, target, **kw)
        assert normalize(proxy, ids) == normalize(ref, ids), target
        return ref, proxy


@pytest.fixture(scope="session")
def diff_store():
    s = new_diff_store()
    yield s
    s.destroy()


def new_diff_store() -> Store:
    """A store with the differential tests' images: base, one used by a
    container, one labelled."""
    s = Store.create()
    s.base_id = s.make_image("localhost/podproxy/base:1")
    s.used_id = s.make_image(USED)
    s.container_id = s.create_container(USED, "podproxy-used")
    # labels a and b: list filters with several label values select it (podman 5)
    s.labelled_id = s.make_image("localhost/podproxy/labelled:1", changes=["LABEL a=1", "LABEL b=2"])
    return s


def serve_pair(store):
    """podman's service and podproxy on ``store``, stopped when the generator ends."""
    ref = start_reference(store)
    proxy = start_podproxy(store)
    try:
        yield Pair(ref, proxy, store)
    finally:
        proxy.stop()
        ref.stop()


@pytest.fixture(scope="session")
def pair(diff_store):
    yield from serve_pair(diff_store)


@pytest.fixture
def fresh_pair():
    """Two separate fresh stores, one per server, for tests that change the
    store (prune, remove all): each side starts from the same state."""
    stores = [Store.create(), Store.create()]
    ref = start_reference(stores[0])
    proxy = start_podproxy(stores[1])
    yield stores, Pair(ref, proxy, None)
    proxy.stop()
    ref.stop()
    for s in stores:
        s.destroy()
