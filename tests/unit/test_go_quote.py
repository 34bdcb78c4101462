"""One go_quote, as Go's strconv.Quote: the handlers' messages and the argv
checks quote a value the same way."""

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
