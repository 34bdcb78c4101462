"""The pull policy tables, one of each (gocompat/pullpolicy.py): ParsePullPolicy for the pull
route, buildah's PolicyMap for the build route."""
import pytest

from podproxy.engine.build import BuildEngine, BuildOptions
from podproxy.gocompat.pullpolicy import build_pull_policy, pull_policy


@pytest.mark.parametrize("value, flag", [("always", "always"), ("Always", "always"), ("IfNotPresent", "missing"),
                                         ("ifnewer", "newer"), ("Never", "never"), ("bogus", None), ("", None)])
def test_pull_policy(value, flag):
    assert pull_policy(value) == flag


@pytest.mark.parametrize("value, flag", [("always", "always"), ("ifnewer", "newer"), ("never", "never"),
                                         ("Always", "missing"), ("bogus", "missing"), ("", "missing")])
def test_build_pull_policy(value, flag):
    assert build_pull_policy(value) == flag


def test_build_argv_uses_the_build_table():
    argv = BuildEngine(None).argv("/ctx", ["Containerfile"], BuildOptions(pull_policy="ifnewer"))
    assert "--pull=newer" in argv


def test_the_pull_route_reads_the_one_table():
    from podproxy.handlers import registry

    assert registry.pull_policy is pull_policy and not hasattr(registry, "PULL_POLICIES")
