"""Property tests (hypothesis) through every endpoint with the real podman:
arbitrary names, query strings and filters must never give a 5xx of
podproxy's own, never put a client's value into podman's argv as an
option, and never change the store when the request is rejected.

The routes come from the route table, so routes added later are fuzzed
too. Examples are bounded (the whole module runs in a minute or two)."""
from __future__ import annotations

import json
from urllib.parse import quote, urlencode

import pytest
from helpers import Store
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from podproxy.app import create_app, route_tables
from podproxy.settings import Settings
from podproxy.web.routing import Router

pytestmark = pytest.mark.podman

ROUTES = [(m, r) for r in Router(route_tables()).routes for m in r.methods]
NAMED = [(m, r) for m, r in ROUTES if "{name}" in r.key]
PARAMS = sorted({p.name for _, r in ROUTES if r.query for p in r.query.params} | {"filters", "repo", "tag"})
IMAGES = ("localhost/podproxy/prop-a:1", "localhost/podproxy/prop-used:1")
# flags the engine itself writes; everything else that starts with "-"
# before podman's "--" would have come from the client
ENGINE_FLAGS = {"--all", "--force", "--ignore", "--external", "--whatrequires", "--format", "--quiet", "--filter"}
FUZZ = settings(deadline=None, suppress_health_check=list(HealthCheck), database=None)

option_like = (st.sampled_from(["-a", "-f", "-q", "--help", "--root=/", "--url=tcp://127.0.0.1:1", "--force=1",
                                "--all=true", "--storage-driver=vfs", "-rf", "--", "-"])
               | st.from_regex(r"\A-{1,2}[a-z][a-z-]{0,10}(=[a-z/]{0,6})?\Z")).filter(lambda v: v not in ENGINE_FLAGS)
text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)
names = st.one_of(option_like, text, st.sampled_from([*IMAGES, "UPPER", "a:b:c", "sha256:zz", "x/../y", ".", "remove",
                                                       "a\x00b", "a\nb", "é", " ", "%", "%2F"]))
values = st.one_of(st.sampled_from(["", "true", "1", "on", "false", "maybe", "-1"]), option_like, text)


@pytest.fixture(scope="module")
def world():
    store = Store.create()
    app = create_app({"TESTING": True}, settings=Settings(podman_option=list(store.options), podman_timeout=60))
    runner = app.extensions["podproxy"].runner
    argvs: list = []
    run, stream = runner.run, runner.stream

    def recording_run(args, **kw):
        argvs.append(list(args))
        return run(args, **kw)

    def recording_stream(args, **kw):
        argvs.append(list(args))
        return stream(args, **kw)

    runner.run, runner.stream = recording_run, recording_stream
    world = type("World", (), {"store": store, "client": app.test_client(), "argvs": argvs})()
    restore(world)
    yield world
    store.destroy()


def restore(world):
    """The images and the container the examples may have removed."""
    ids = world.store.image_ids()
    for ref in IMAGES:
        if world.store.podman("image", "exists", ref, check=False).returncode != 0:
            world.store.make_image(ref)
    if "prop-used" not in world.store.out("ps", "-a", "--format", "{{.Names}}"):
        world.store.create_container(IMAGES[1], "prop-used")
    world.state = (world.store.image_ids(), world.store.out("ps", "-a", "-q", "--no-trunc"))
    return ids


def target(route, name="nope", pairs=()):
    path = route.key.replace("{name}", quote(name, safe=""))
    if "{version" in route.template:
        path = "/v4.3.1" + path
    return path + ("?" + urlencode(list(pairs)) if pairs else "")


def check(world, method, url, inputs):
    world.argvs.clear()
    r = world.client.open(url, method=method)
    status = r.status_code
    if status >= 500:
        # the first object: podman's ImageNotFound writes a 500 and a 404 body
        body, _ = json.JSONDecoder().raw_decode(r.get_data(as_text=True))
        assert set(body) == {"cause", "message", "response"}, (url, r.data)
        assert not body["message"].startswith(("internal error", "cannot run podman")), (url, body)
    option_inputs = {v for v in inputs if v.startswith("-")}
    for argv in world.argvs:
        head = argv[: argv.index("--")] if "--" in argv else argv
        smuggled = [a for a in head if a in option_inputs and a not in ENGINE_FLAGS]
        assert not smuggled, (url, argv)
        assert all(not a.startswith("-") or a.startswith("--") for a in head), (url, argv)  # no short options at all
    state = (world.store.image_ids(), world.store.out("ps", "-a", "-q", "--no-trunc"))
    if status >= 400:
        assert state == world.state, ("a rejected request changed the store", url, status)
    elif state != world.state:
        restore(world)


@settings(FUZZ, max_examples=80)
@given(route=st.sampled_from(NAMED), name=names)
def test_arbitrary_names(world, route, name):
    method, route = route
    check(world, method, target(route, name), [name])


@settings(FUZZ, max_examples=60)
@given(route=st.sampled_from(ROUTES), pairs=st.lists(st.tuples(st.sampled_from(PARAMS) | text, values), max_size=4))
def test_arbitrary_query_strings(world, route, pairs):
    method, route = route
    check(world, method, target(route, pairs=pairs), [v for kv in pairs for v in kv])


filters = st.one_of(
    st.dictionaries(st.sampled_from(["label", "before", "since", "until", "dangling", "reference", "all", "id"]) | text,
                    st.lists(values, max_size=3), max_size=3).map(json.dumps),
    st.dictionaries(text, st.dictionaries(values, st.booleans(), max_size=2), max_size=2).map(json.dumps),
    text,
)


@settings(FUZZ, max_examples=40)
@given(route=st.sampled_from([(m, r) for m, r in ROUTES if r.query is not None]), raw=filters)
def test_arbitrary_filters(world, route, raw):
    method, route = route
    inputs = [raw]
    try:
        decoded = json.loads(raw)
        if isinstance(decoded, dict):
            inputs += [str(k) for k in decoded] + [str(v) for vs in decoded.values() for v in (vs or [])]
    except ValueError:
        pass
    check(world, method, target(route, pairs=[("filters", raw)]), inputs)
