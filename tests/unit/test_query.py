"""podman's query decoder rules (gorilla/schema as podman configures it)."""
import pytest

from podproxy.web.errors import APIError
from podproxy.web.filters import common_filters, prepare_filters
from podproxy.web.query import (
    Bool,
    Filters,
    Int,
    List,
    Query,
    Str,
    parse_query,
)

Q = Query(Bool("all"), Bool("force"), Int("limit", 5), Str("format", "oci-archive"), List("images"))


def decode(qs, spec=Q):
    return spec.decode(parse_query(qs), "/v4/x?" + qs)


@pytest.mark.parametrize("text,value", [
    ("1", True), ("t", True), ("T", True), ("TRUE", True), ("true", True), ("True", True), ("on", True),
    ("0", False), ("f", False), ("F", False), ("FALSE", False), ("false", False), ("False", False),
])
def test_bool_spellings(text, value):
    assert decode("all=" + text)["all"] is value


@pytest.mark.parametrize("text", ["ON", "off", "yes", "tRuE", "%20true", "true%20", "2"])
def test_bool_rejects(text):
    with pytest.raises(APIError) as e:
        decode("all=" + text)
    assert e.value.status == 400
    assert e.value.cause == 'schema: error converting value for "all"'
    assert e.value.message == 'failed to parse parameters for /v4/x?all=%s: schema: error converting value for "all"' % text


def test_keys_are_case_insensitive_and_error_names_key_as_sent():
    assert decode("ALL=TRUE&Force=1")["all"] is True
    with pytest.raises(APIError) as e:
        decode("ALL=maybe")
    assert e.value.cause == 'schema: error converting value for "ALL"'


def test_unknown_keys_ignored_and_defaults_kept():
    assert decode("nope=1&x") == {"all": False, "force": False, "limit": 5, "format": "oci-archive", "images": None}


def test_last_value_wins_and_only_last_is_converted():
    assert decode("all=true&all=false")["all"] is False
    assert decode("all=bad&all=true")["all"] is True


def test_empty_value_keeps_default():
    assert decode("all=true&all=")["all"] is False
    assert decode("format=")["format"] == "oci-archive"
    assert decode("limit")["limit"] == 5


def test_lists_repeat_keep_commas_drop_empties():
    assert decode("images=a,b&images=&images=c")["images"] == ["a,b", "c"]
    assert decode("images=")["images"] == []


@pytest.mark.parametrize("text,ok", [("12", 12), ("-3", -3), ("%2B4", 4), ("abc", None), ("1.5", None),
                                     ("1_000", None), ("9223372036854775808", None)])
def test_int(text, ok):
    if ok is None:
        with pytest.raises(APIError):
            decode("limit=" + text)
    else:
        assert decode("limit=" + text)["limit"] == ok


def test_several_errors():
    with pytest.raises(APIError) as e:
        decode("all=x&force=y&limit=z")
    assert e.value.cause.endswith("(and 2 other errors)")
    with pytest.raises(APIError) as e:
        decode("all=x&force=y")
    assert e.value.cause.endswith("(and 1 other error)")


def test_error_status_of_spec():
    with pytest.raises(APIError) as e:
        decode("all=x", Query(Bool("all"), error_status=500))
    assert e.value.status == 500


def test_parse_query_like_go():
    assert parse_query("a=1&b=%zz&c=x+y%2F&d;e=1&&f") == [("a", "1"), ("c", "x y/"), ("f", "")]


def _filters(parser, raw):
    return parser({"filters"}, lambda key: raw)


def test_prepare_filters_both_forms():
    assert _filters(prepare_filters, '{"label":{"a=b":true,"c":false}}') == {"label": ["a=b"]}
    assert _filters(prepare_filters, '{"label":["a","b"],"dangling":["true"]}') == {"label": ["a", "b"], "dangling": ["true"]}
    assert _filters(prepare_filters, "null") == {}


def test_common_filters_join_slices():
    assert _filters(common_filters, '{"reference":["a","b"]}') == ["reference=a=b"]
    assert _filters(common_filters, '{"label":{"x":true}}') == ["label=x"]


@pytest.mark.parametrize("raw,error", [
    ("notjson", "invalid character 'o' in literal null (expecting 'u')"),
    ("{bad", "invalid character 'b' looking for beginning of object key string"),
    ("", "unexpected end of JSON input"),
    ('{"a":"b"}', "json: cannot unmarshal string into Go value of type []string"),
    ("[1]", "json: cannot unmarshal array into Go value of type map[string][]string"),
])
def test_filter_errors_are_gos(raw, error):
    with pytest.raises(ValueError) as e:
        _filters(prepare_filters, raw)
    assert str(e.value) == error


def test_filters_presence_is_case_sensitive():
    assert prepare_filters({"FILTERS"}, lambda key: "{bad") == {}
    assert prepare_filters({"Filters"}, lambda key: '{"a":["b"]}' if key == "Filters" else "") == {"a": ["b"]}


def test_filters_in_spec_with_prefix_and_order():
    spec = Query(Bool("all"), error_status=500,
                 filters=Filters(prepare_filters, prefix="failed to decode filter parameters for %s", first=True))
    with pytest.raises(APIError) as e:
        decode("all=bad&filters=%7Bbad", spec)
    assert e.value.message.startswith("failed to decode filter parameters for /v4/x?all=bad&filters=%7Bbad: invalid")
    values = decode("filters=%7B%22a%22%3A%5B%22b%22%5D%7D", spec)
    assert values["filters"] == {"a": ["b"]} and "filters" in values.present


def test_a_form_query_reads_like_r_form_get():
    """tag/untag (``form=True``): the first value of the exact key, a form
    body before the URL query, never a decoding error."""
    spec = Query(Str("repo"), Str("tag"), form=True)
    assert decode("repo=a&repo=b&Tag=x", spec) == {"repo": "a", "tag": ""}
    body = {"repo": "from-body"}
    values = spec.decode(parse_query("repo=q&tag=%zz&tag=t"), "/x", lambda k: body.get(k, ""))
    assert values == {"repo": "from-body", "tag": ""}
    assert decode("tag=%zz&tag=1", spec)["tag"] == "1"  # Go drops the bad escape


def test_docker_bools():
    """podman 4.7+'s compat decoder: Docker's BoolValue, never an error; an
    empty value keeps the default as before."""
    q = Query(Bool("quiet"), Bool("tlsVerify", True))
    docker = q.with_docker_bools()
    url = "/images/load"
    assert docker.decode([("quiet", "maybe"), ("tlsVerify", "")], url) == {"quiet": True, "tlsVerify": True}
    for word in ("0", "no", "FALSE", " none ", "False"):
        assert docker.decode([("quiet", word), ("tlsVerify", word)], url) == {"quiet": False, "tlsVerify": False}
    with pytest.raises(APIError):
        q.decode([("quiet", "maybe")], url)
