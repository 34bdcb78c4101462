"""Presets, rules files and per-token narrowing, over the real route table
(each route's access class as its registration declares it)."""
import pytest

from podproxy import apidoc
from podproxy.security import policy as policies
from podproxy.security.auth import Token
from podproxy.security.policy import Access, load_policy, parse_rules
from podproxy.web.catalog import access_classes, served
from podproxy.web.errors import APIError

APP = apidoc.default_app()
CLASSES = access_classes(APP)
ROUTES = sorted({(s.method, s.key) for s in served(APP) if s.route is not None})  # podman's routes


def _of(access):
    return {key for key, declared in CLASSES.items() if declared == access}


READ, WRITE, EXPORT, CONTENT = (_of(policies.READ), _of(policies.WRITE), _of(policies.EXPORT),
                                _of(policies.CONTENT))


def preset_allows(preset, method, key):
    return policies.preset_allows(preset, CLASSES.get((method, key)))


def test_presets_over_every_route():
    for method, key in ROUTES:
        assert preset_allows("full", method, key)
        assert preset_allows("read-only", method, key) == ((method, key) in READ)
        assert preset_allows("no-export", method, key) == ((method, key) not in EXPORT | CONTENT
                                                            and ((method, key) in READ or (method, key) in WRITE))
    assert not preset_allows(None, "GET", "/version")


def test_no_export_denies_every_route_that_reveals_image_content():
    """Decided per route from what it can reveal (see policy.py): whole
    images out (get, export, push, scp) and build (reads any local image's
    files: FROM + RUN cat, COPY --from, RUN --mount from=)."""
    for key in [("GET", "/libpod/images/{name}/get"), ("GET", "/libpod/images/export"),
                ("POST", "/libpod/images/{name}/push"), ("POST", "/libpod/images/scp/{name}"),
                ("POST", "/libpod/build")]:
        assert not preset_allows("no-export", *key) and not preset_allows("read-only", *key), key
        assert preset_allows("full", *key)
    for key in [("POST", "/libpod/commit"), ("POST", "/libpod/images/load"), ("POST", "/libpod/images/pull"),
                ("GET", "/libpod/images/{name}/json"), ("GET", "/libpod/images/{name}/history"),
                ("GET", "/libpod/images/{name}/changes")]:
        assert preset_allows("no-export", *key), key


def test_unclassified_routes_are_denied_except_by_full():
    assert not preset_allows("read-only", "POST", "/libpod/images/brand-new")
    assert not preset_allows("no-export", "POST", "/libpod/images/brand-new")
    assert preset_allows("full", "POST", "/libpod/images/brand-new")


def test_export_routes_are_denied_by_no_export_and_read_only():
    for method, key in EXPORT:
        assert not preset_allows("no-export", method, key) and not preset_allows("read-only", method, key)
    assert preset_allows("no-export", "DELETE", "/libpod/images/{name}")


def test_rules_first_match_then_base():
    policy = parse_rules("""
        # comment
        base read-only
        deny  GET  /libpod/images/{name}/tree   # trailing comment
        allow POST,DELETE /libpod/images/*
        """, "rules", CLASSES)
    assert not policy.allows("GET", "/libpod/images/{name}/tree")
    assert policy.allows("GET", "/libpod/images/{name}/json")  # base
    assert policy.allows("DELETE", "/libpod/images/remove")
    assert not policy.allows("POST", "/libpod/commit")
    assert policy.decide("GET", "/libpod/images/{name}/tree")[1] == "rule 1 of rules"


def test_rules_without_base_deny_the_rest():
    policy = parse_rules("allow * /_ping", "r", CLASSES)
    assert policy.allows("HEAD", "/_ping") and not policy.allows("GET", "/version")


@pytest.mark.parametrize("text", ["permit GET /x", "allow GET", "base everything", "allow GET x"])
def test_bad_rules_name_the_line(text):
    with pytest.raises(ValueError, match="line 1"):
        parse_rules(text, "r")


def test_policy_spec_is_preset_or_file(tmp_path):
    assert load_policy(None).base == "full"
    rules = tmp_path / "rules"
    rules.write_text("base no-export\n")
    assert load_policy(str(rules)).base == "no-export"
    with pytest.raises(ValueError, match="neither a preset"):
        load_policy("everything")


def test_token_policy_narrows_never_widens():
    tokens = [Token("admin", "x" * 16), Token("reader", "y" * 16, "read-only")]
    access = Access.build("no-export", tokens, CLASSES)
    access.check("DELETE", "/libpod/images/{name}", tokens[0])
    for token in tokens:
        access.check("GET", "/libpod/images/{name}/json", token)
    with pytest.raises(APIError) as err:
        access.check("DELETE", "/libpod/images/{name}", tokens[1])
    assert err.value.status == 403 and err.value.cause == "access denied"
    with pytest.raises(APIError):  # the server's policy still holds for the admin
        access.check("GET", "/libpod/images/{name}/get", tokens[0])
