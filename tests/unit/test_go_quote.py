"""One go_quote, as Go's strconv.Quote: the handlers' messages and the argv
checks quote a value the same way."""

import pytest

from podproxy.engine.podman import argv
from podproxy.gocompat.gojson import go_quote


def test_undecodable_byte_is_quoted_as_go_does():
    # "a\xffb" read with surrogateescape; Go's %q prints the invalid byte as \xff
    assert go_quote("a\udcffb") == '"a\\xffb"'


def test_escapes_and_unprintables():
    assert go_quote('q"\\\n\t\x00\x7f') == '"q\\"\\\\\\n\\t\\x00\\x7f"'
    assert go_quote("\u0085é\U000e0001") == '"\\u0085é\\U000e0001"'


def test_argv_checks_quote_with_the_same_function():
    assert not hasattr(argv, "go_quote") or argv.go_quote is go_quote


def test_one_parse_bool():
    """strconv.ParseBool once (gocompat/strconv.py): the query decoder adds schema's "on", prune's
    ``all`` filter reads it bare, with Go's error text (%q of the value)."""
    from podproxy.gocompat.strconv import parse_bool
    from podproxy.handlers import images
    from podproxy.web import query

    assert parse_bool("T") is True and parse_bool("0") is False
    with pytest.raises(ValueError, match=r'\Astrconv.ParseBool: parsing "on": invalid syntax\Z'):
        parse_bool("on")
    with pytest.raises(ValueError) as err:
        parse_bool('a"b')
    assert str(err.value) == 'strconv.ParseBool: parsing "a\\"b": invalid syntax'
    assert query._to_bool("on") is True and not hasattr(images, "_go_bool")
