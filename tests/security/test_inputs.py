"""Input checks against the oracle: a name the engine refuses without
running podman must be one that podman itself refuses the same way."""
from __future__ import annotations

import pytest

from podproxy.engine import validate
from podproxy.engine.runner import Failure, Runner
from podproxy.engine.images import ImageEngine

pytestmark = pytest.mark.podman

NAMES = ["a_b", "a__b", "localhost/a_b:t_1", "a-b", "a.b", "A", "-a", "--all", "a:b:c", "sha256:zz", "a@sha256:x",
         "a b", "a+b", "a~b", "a=b", "a,b", "a'b", "a*b", "a[b", "a;b", "a#b", "a$b", "a%b", "a&b", "a|b", "a\\b",
         "a\"b", "a!b", "é", "a\tb", "a\nb", ""]


@pytest.mark.parametrize("name", NAMES)
def test_names_we_refuse_podman_refuses_too(store, name):
    proc = store.podman("image", "exists", "--", name, check=False)
    podman_says_invalid = proc.returncode == 125 and b"invalid reference format" in proc.stderr
    # refused by us -> refused by podman, with that error (podman refuses
    # more: "-a", "a:b:c"... those it answers itself, after "--")
    if not validate.is_reference(name):
        assert podman_says_invalid, (name, proc.returncode, proc.stderr)


def test_unexecutable_values_never_reach_exec(store):
    runner = Runner("podman", store.options)
    engine = ImageEngine(runner)
    for name in ["a\x00b", "\udcff", "ok\x00"]:
        with pytest.raises(Failure, match="invalid reference format"):
            engine.exists(name)
    with pytest.raises(Exception) as err:
        runner.run(["image", "prune", "--filter=label=a\x00b"])
    assert err.value.status == 400 and "NUL" in err.value.message
    assert runner.calls == 0
