"""Input checks against the oracle: a name the engine refuses without
running podman must be one that podman itself refuses the same way, and a
name it lets through gets podman's own service's answer."""
from __future__ import annotations

from urllib.parse import quote

import pytest

from podproxy.engine.images import ImageEngine
from podproxy.engine.podman import argv as validate
from podproxy.engine.podman.errors import Failure
from podproxy.engine.podman.runner import Runner
from podproxy.handlers.errors import answer

pytestmark = pytest.mark.podman

V = "/v4.3.1/libpod"
NAMES = ["a_b", "a__b", "localhost/a_b:t_1", "a-b", "a.b", "A", "-a", "--all", "a:b:c", "sha256:zz", "a@sha256:x",
         "a b", "a+b", "a~b", "a=b", "a,b", "a'b", "a*b", "a[b", "a;b", "a#b", "a$b", "a%b", "a&b", "a|b", "a\\b",
         "a\"b", "a!b", "é", "a\tb", "a\nb", ""]
REFUSED = [n for n in NAMES if not validate.is_reference(n)]
PASSED = [n for n in NAMES if validate.is_reference(n)]


def test_both_kinds_are_exercised():
    assert len(REFUSED) >= 15 and len(PASSED) >= 10, (REFUSED, PASSED)


def path_of(name: str) -> str:
    return "%s/images/%s/json" % (V, quote(name, safe=""))


@pytest.mark.parametrize("name", REFUSED)
def test_names_we_refuse_podman_refuses_too(store, app, reference, name):
    """Refused by us -> refused by podman's CLI with that error, and the
    app answers as podman's own service does, without starting podman."""
    proc = store.podman("image", "exists", "--", name, check=False)
    assert proc.returncode == 125 and b"invalid reference format" in proc.stderr, (name, proc.returncode, proc.stderr)
    runner, client = app.extensions["podproxy"].runner, app.test_client()
    client.get(V + "/images/json")  # the app's first podman calls (version, info) are done
    calls = runner.calls
    for path in (path_of(name), path_of(name).replace("/json", "/exists")):
        ours = client.get(path)
        theirs = reference.http.request("GET", path)
        assert (ours.status_code, ours.get_data()) == (theirs.status, theirs.body), (name, path)
    assert runner.calls == calls, name


@pytest.mark.parametrize("name", PASSED)
def test_names_we_pass_get_podmans_answer(store, client, reference, name):
    """Let through (podman refuses some itself: "-a", "a:b:c"... after
    "--") -> the same status and body as podman's own service."""
    for path in (path_of(name), path_of(name).replace("/json", "/exists")):
        ours = client.get(path)
        theirs = reference.http.request("GET", path)
        assert ours.status_code == theirs.status, (name, path, ours.get_data(), theirs.body)
        assert ours.get_data() == theirs.body, (name, path)


def test_unexecutable_values_never_reach_exec(store):
    runner = Runner("podman", store.options)
    engine = ImageEngine(runner)
    for name in ["a\x00b", "\udcff", "ok\x00"]:
        with pytest.raises(Failure, match="invalid reference format"):
            engine.exists(name)
    with pytest.raises(Exception) as err:
        runner.run(["image", "prune", "--filter=label=a\x00b"])
    assert answer(err.value).status == 400 and "NUL" in err.value.message
    assert runner.calls == 0
