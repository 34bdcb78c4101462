"""Go's JSON encoding and podman's error body."""
from podproxy.gocompat import gojson
from podproxy.web.errors import APIError, cause_of, error_body


def test_html_escaping_and_controls():
    assert gojson.dumps({"a": "<&>\u2028\u2029\x01\n\t\b"}) == '{"a":"\\u003c\\u0026\\u003e\\u2028\\u2029\\u0001\\n\\t\\u0008"}'


def test_key_order_and_types():
    assert gojson.dumps({"b": 1, "a": [True, None, 2.5, "x"]}) == '{"b":1,"a":[true,null,2.5,"x"]}'


def test_error_body_shape():
    assert error_body(404, "nope: image not known", "image not known") == \
        '{"cause":"image not known","message":"nope: image not known","response":404}\n'


def test_wrap_keeps_cause():
    err = APIError(500, "nope: image not known", "image not known").wrap("failed to find image nope", 404)
    assert (err.status, err.message, err.cause) == (404, "failed to find image nope: nope: image not known", "image not known")


def test_cause_of():
    assert cause_of("image used by 6e: image is in use by a container: consider") == "image is in use by a container"
    assert cause_of('normalizing name "UPPER:latest": repository name must be lowercase') == "repository name must be lowercase"
    assert cause_of('unsupported image filter "all"') == 'unsupported image filter "all"'


def test_cause_of_dns_failure_is_the_dns_error():
    """Go's *net.DNSError ends the chain (podman 5's compat pull answers it)."""
    message = ('initializing source docker://x:1: pinging container registry registry-1.docker.io: Get '
               '"https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io on 10.0.0.53:53: no such host')
    assert cause_of(message) == "lookup registry-1.docker.io on 10.0.0.53:53: no such host"
    assert cause_of('pinging: Get "https://h/v2/": dial tcp 127.0.0.1:1: connect: connection refused') == \
        "connection refused"


def test_cause_of_a_bad_commit_change():
    message = ('copying layers and metadata for container "ab": initializing source containers-storage:c: applying '
               'changes: processing change "BOGUS x": did not understand change instruction "BOGUS x"')
    assert cause_of(message) == 'did not understand change instruction "BOGUS x"'


def test_quote_char_of_non_ascii_is_first_byte():
    assert gojson.unmarshal("é", gojson.MAP(gojson.BOOL))[1] == "invalid character 'Ã' looking for beginning of value"
    assert gojson.unmarshal("\x01", gojson.MAP(gojson.BOOL))[1] == "invalid character '\\x01' looking for beginning of value"


def test_deep_nesting_is_gos_type_error_not_a_recursion_error():
    """Nesting costs no Python stack: up to Go's 10000 levels the answer is
    the type error podman gives, one level more is Go's depth error."""
    maps, slices = gojson.MAP(gojson.MAP(gojson.BOOL)), gojson.MAP(gojson.SLICE(gojson.STRING))
    for depth in (500, 10000):
        assert gojson.unmarshal("[" * depth + "]" * depth, slices)[1] == \
            "json: cannot unmarshal array into Go value of type map[string][]string"
        assert gojson.unmarshal('{"a":' * depth + "1" + "}" * depth, maps)[1] == \
            "json: cannot unmarshal object into Go value of type bool"
    assert gojson.unmarshal("[" * 10001 + "]" * 10001, slices)[1] == "invalid character '[' exceeded max depth"
    assert gojson.unmarshal('{"a":' * 10001 + "1" + "}" * 10001, maps)[1] == \
        "invalid character '{' exceeded max depth"
    # a syntax error before the depth is reached is reported first, as Go's scanner does
    assert gojson.unmarshal("[1 2" + "[" * 10001, slices)[1] == "invalid character '2' after array element"
    # what the type reads is kept whole
    kept = ({"a": {"b": True, "c": False}, "d": {}}, None)
    assert gojson.unmarshal('{"a":{"b":true,"c":false},"d":{}}', maps) == kept


def test_cause_of_podman5_chains():
    """podman 5.4.2's own causes for its CLI's texts (p5-report G7)."""
    layer = ('unable to import tarball: writing blob: adding layer with blob "sha256:79"/""/"sha256:79": '
             "unpacking failed (error: exit status 1; output: unexpected EOF)\nexhausting input failed "
             "(error: unexpected EOF)")
    assert cause_of(layer) == ("unpacking failed (error: exit status 1; output: unexpected EOF)\n"
                               "exhausting input failed (error: unexpected EOF)")
    push = ('pushing image "127.0.0.1:5000/auth/base:1": trying to reuse blob sha256:ab at destination: '
            "checking whether a blob sha256:ab exists in 127.0.0.1:5000/auth/base: authentication required")
    assert cause_of(push) == "unauthorized: authentication required"
    # 4.3.1's wording keeps its exit status
    assert cause_of('writing blob: adding layer with blob "sha256:79": processing tar file(unexpected EOF): '
                    "exit status 1") == "exit status 1"
