"""Token file, credential matching, the failure brake and the bind rule."""
import base64

import pytest

from podproxy.auth import Authenticator, FailureLimiter, Token, exposure_problem, parse_tokens
from podproxy.errors import APIError
from podproxy.settings import Settings

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


def test_failures_are_braked_per_address():
    now = [1000.0]
    auth = Authenticator(TOKENS, FailureLimiter(max_failures=3, window=60, clock=lambda: now[0]))
    for _ in range(3):
        with pytest.raises(APIError) as err:
            auth.authenticate("Bearer wrong", "10.0.0.1")
        assert err.value.status == 401
    with pytest.raises(APIError) as err:  # blocked: even the right token waits
        auth.authenticate("Bearer " + ADMIN, "10.0.0.1")
    assert err.value.status == 429 and int(err.value.headers["Retry-After"]) == 61
    assert auth.authenticate("Bearer " + ADMIN, "10.0.0.2").name == "admin"  # other clients are not
    now[0] += 61
    assert auth.authenticate("Bearer " + ADMIN, "10.0.0.1").name == "admin"


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
