"""Token file, credential matching, the failure brake and the bind rule."""
import base64

import pytest

from podproxy.security.auth import (
    Authenticator,
    FailureLimiter,
    Token,
    client_address,
    exposure_problem,
    parse_tokens,
)
from podproxy.settings import Settings
from podproxy.web.errors import APIError

ADMIN = "admin-secret-0123456789"
READER = "reader-secret-0123456789"
TOKENS = [Token("admin", ADMIN), Token("reader", READER, "read-only")]


def test_token_file_lines():
    tokens = parse_tokens("# who\n\nadmin %s\nreader %s read-only\n" % (ADMIN, READER))
    assert tokens == TOKENS


@pytest.mark.parametrize("text, message", [
    ("", "no tokens"),
    ("admin", "line 1: expected NAME TOKEN"),
    ("admin short", "shorter than 16"),
    ("a:b %s" % ADMIN, "cannot contain ':'"),
    ("admin %s\nadmin %s" % (ADMIN, READER), "appears twice"),
])
def test_bad_token_files_name_the_line(text, message):
    with pytest.raises(ValueError, match=message):
        parse_tokens(text)


def basic(name, secret):
    return "Basic " + base64.b64encode(("%s:%s" % (name, secret)).encode()).decode()


def test_bearer_and_basic_find_the_token():
    auth = Authenticator(TOKENS)
    assert auth.authenticate("Bearer " + READER, "c").name == "reader"
    assert auth.authenticate("bearer  %s " % ADMIN, "c").name == "admin"
    assert auth.authenticate(basic("reader", READER), "c").name == "reader"


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer nope", "Bearer " + ADMIN[:-1], "Token " + ADMIN,
                                    basic("reader", ADMIN), basic("nobody", ADMIN), "Basic !!!", "Basic " + "YQ=="])
def test_missing_or_wrong_credentials_are_401(header):
    with pytest.raises(APIError) as err:
        Authenticator(TOKENS).authenticate(header, "c")
    assert err.value.status == 401
    assert "Bearer" in err.value.headers["WWW-Authenticate"]


def test_no_tokens_means_no_auth():
    assert Authenticator([]).authenticate(None, "c") is None


def test_failures_are_braked_per_address_and_never_refuse_a_right_token():
    """Issue 11 point 11: a guesser's failures brake its own failing
    requests (429), never a right credential, from any address (behind
    nginx on a unix socket, every client shares one peer address)."""
    now = [1000.0]
    auth = Authenticator(TOKENS, FailureLimiter(max_failures=3, window=60, clock=lambda: now[0]))
    for _ in range(3):
        with pytest.raises(APIError) as err:
            auth.authenticate("Bearer wrong-guess-0123456789", "10.0.0.1")
        assert err.value.status == 401
    for header in ("Bearer wrong-guess-0123456789", None, basic("admin", "nope")):
        with pytest.raises(APIError) as err:
            auth.authenticate(header, "10.0.0.1")
        assert err.value.status == 429 and int(err.value.headers["Retry-After"]) == 61
    assert auth.authenticate("Bearer " + ADMIN, "10.0.0.1").name == "admin"  # braked address, right token
    assert auth.authenticate(basic("reader", READER), "10.0.0.1").name == "reader"
    with pytest.raises(APIError) as err:  # another address's wrong token: its own 401, not the brake
        auth.authenticate("Bearer wrong-guess-0123456789", "10.0.0.2")
    assert err.value.status == 401
    now[0] += 61
    with pytest.raises(APIError) as err:
        auth.authenticate("Bearer wrong-guess-0123456789", "10.0.0.1")
    assert err.value.status == 401


@pytest.mark.parametrize("peer, forwarded, trusted, client", [
    ("10.0.0.9", "1.2.3.4", (), "10.0.0.9"),                      # nobody trusted: the peer
    ("", "1.2.3.4", (), "unix"),                                  # a unix-socket peer
    ("", None, ("unix",), "unix"),                                # trusted, but no header
    ("", "1.2.3.4", ("unix",), "1.2.3.4"),                        # nginx on the unix socket
    ("", "6.6.6.6, 1.2.3.4", ("unix",), "1.2.3.4"),               # the client's own XFF is not believed
    ("127.0.0.1", "6.6.6.6, 1.2.3.4, 10.1.2.3", ("127.0.0.1", "10.0.0.0/8"), "1.2.3.4"),  # rightmost untrusted
    ("127.0.0.1", "10.0.0.1, 10.0.0.2", ("127.0.0.0/8", "10.0.0.0/8"), "10.0.0.1"),      # all trusted: leftmost
    ("10.9.9.9", "1.2.3.4", ("127.0.0.1",), "10.9.9.9"),          # an untrusted peer's XFF is ignored
    ("10.9.9.9", "1.2.3.4", ("*",), "1.2.3.4"),
    ("", "1.2.3.4", ("127.0.0.1",), "unix"),                      # unix not listed
    ("::1", "2001:db8::1", ("::1",), "2001:db8::1"),
    ("", " , 1.2.3.4 ,", ("unix",), "1.2.3.4"),                   # empty hops skipped
    ("", "x" * 500, ("unix",), "x" * 64),                          # bounded key
])
def test_client_address(peer, forwarded, trusted, client):
    assert client_address(peer, forwarded, trusted) == client


def test_limiter_memory_is_bounded():
    limiter = FailureLimiter(max_failures=2, max_clients=100)
    for n in range(1000):
        limiter.fail("10.0.%d.%d" % (n // 256, n % 256))
    assert len(limiter._failures) <= 100


@pytest.mark.parametrize("bind, refused", [
    (["127.0.0.1:8080"], False), (["localhost:1"], False), (["[::1]:8080"], False), (["unix:/run/p.sock"], False),
    (["0.0.0.0:8080"], True), (["[::]:8080"], True), (["192.168.1.5:80"], True), (["example.org:80"], True),
    ([":8080"], True), (["127.0.0.1:1", "10.1.1.1:2"], True),
])
def test_serve_refuses_exposed_binds_without_tokens(bind, refused):
    problem = exposure_problem(Settings(bind=bind))
    assert bool(problem) == refused
    if refused:
        assert "--token-file" in problem and "--insecure" in problem
    assert exposure_problem(Settings(bind=bind, token_file="/t")) is None
    assert exposure_problem(Settings(bind=bind, insecure=True)) is None
