"""Who is asking: API tokens, HTTP basic, and a brake on guessing.

podman's own service has no authentication (whoever reaches the socket is
root on the image store), so podproxy adds it in front of every route:

* ``--token-file`` lists the tokens, one per line: ``NAME TOKEN [POLICY]``.
  ``NAME`` is what the log shows (never the token); ``POLICY`` narrows what
  that token may do (see policy.py). Blank lines and ``#`` comments are
  skipped.
* A client sends ``Authorization: Bearer TOKEN`` or HTTP basic with
  ``NAME:TOKEN`` (for clients that can only put credentials in a URL).
* Every secret is compared with ``hmac.compare_digest`` and every token is
  compared on every attempt, so timing tells nothing about which token or
  how much of it matched.
* The failure brake: failed attempts are counted per client address; past
  ``max_failures`` in ``window`` seconds, that address's *failing* requests
  get 429 (with ``Retry-After``) instead of 401 until the window has moved
  on, and are no longer logged one by one. The count is per worker process.
  A right credential is checked first and always passes, brake or not:
  behind a proxy, or on a unix socket, many clients share one peer address
  ("unix" for every client of nginx on podproxy's socket), and one of them
  guessing must never lock the others out. What keeps guessing hopeless is
  the tokens' length (16 characters at least, 32 random bytes suggested),
  not the brake; the brake keeps a guesser's noise bounded and tells it to
  stop.
* The client address is the TCP peer, ``unix`` for a unix-socket peer; from
  a peer listed in ``--forwarded-allow-ips`` (``client_address``) it is the
  rightmost hop of ``X-Forwarded-For`` that is not itself trusted (nginx
  appends the address it saw; hops further left are the client's say and
  cannot be believed).

``exposure_problem`` is the rule ``podproxy serve`` applies before it
listens: a TCP address other than loopback needs tokens (or ``--insecure``).
"""
from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass

from ..web.errors import APIError

log = logging.getLogger("podproxy.auth")

CHALLENGE = 'Bearer realm="podproxy", Basic realm="podproxy"'


@dataclass(frozen=True)
class Token:
    name: str
    secret: str
    policy: str | None = None


def parse_tokens(text: str, source: str = "token file") -> list[Token]:
    """``NAME TOKEN [POLICY]`` lines -> tokens; ValueError names the line."""
    tokens: list[Token] = []
    names = set()
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) not in (2, 3):
            raise ValueError("%s line %d: expected NAME TOKEN [POLICY]" % (source, number))
        name, secret = parts[0], parts[1]
        if ":" in name:
            raise ValueError("%s line %d: a name cannot contain ':' (HTTP basic uses NAME:TOKEN)" % (source, number))
        if len(secret) < 16:
            raise ValueError("%s line %d: token of %r is shorter than 16 characters" % (source, number, name))
        if name in names:
            raise ValueError("%s line %d: name %r appears twice" % (source, number, name))
        names.add(name)
        tokens.append(Token(name, secret, parts[2] if len(parts) == 3 else None))
    if not tokens:
        raise ValueError("%s has no tokens: refusing to start without them (add lines of NAME TOKEN [POLICY])" % source)
    return tokens


def load_tokens(path: str) -> list[Token]:
    with open(path, encoding="utf-8") as f:
        return parse_tokens(f.read(), path)


class FailureLimiter:
    """Failed attempts per client address in a sliding window."""

    def __init__(self, max_failures: int = 10, window: float = 60.0, max_clients: int = 10000, clock=time.monotonic):
        self.max_failures = max_failures
        self.window = window
        self.max_clients = max_clients
        self.clock = clock
        self._failures: dict[str, deque] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque:
        times = self._failures.get(client)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[client]
        return times

    def retry_after(self, client: str) -> float:
        """Seconds until ``client`` may try again; 0 if it may now."""
        with self._lock:
            now = self.clock()
            times = self._recent(client, now)
            if len(times) < self.max_failures:
                return 0.0
            return max(times[-self.max_failures] + self.window - now, 0.001)

    def fail(self, client: str) -> int:
        """Count one failure; returns the failures in the window."""
        with self._lock:
            now = self.clock()
            times = self._recent(client, now)
            if client not in self._failures:
                if len(self._failures) >= self.max_clients:  # bounded memory under a spray of addresses
                    oldest = min(self._failures, key=lambda c: self._failures[c][-1])
                    del self._failures[oldest]
                self._failures[client] = times
            times.append(now)
            return len(times)


def _equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8", "surrogateescape"), b.encode("utf-8", "surrogateescape"))


class Authenticator:
    """Checks the ``Authorization`` header against the tokens."""

    def __init__(self, tokens: list[Token] | None, limiter: FailureLimiter | None = None):
        self.tokens = list(tokens or [])
        self.limiter = limiter or FailureLimiter()

    @property
    def enabled(self) -> bool:
        return bool(self.tokens)

    def _match(self, header: str) -> Token | None:
        scheme, _, value = header.strip().partition(" ")
        value = value.strip()
        name = None
        if scheme.lower() == "bearer":
            secret = value
        elif scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(value, validate=True).decode("utf-8", "surrogateescape")
            except (binascii.Error, ValueError):
                return None
            name, sep, secret = decoded.partition(":")
            if not sep:
                return None
        else:
            return None
        found = None
        for token in self.tokens:  # no early exit: every token costs the same
            ok = _equal(secret, token.secret)
            if name is not None:
                ok = _equal(name, token.name) & ok
            if ok and found is None:
                found = token
        return found

    def authenticate(self, header: str | None, client: str) -> Token | None:
        """The token the request carries (None when auth is off); raises
        401 (missing or wrong credentials) or, once ``client`` has failed too
        often, 429. A right credential is never refused."""
        if not self.enabled:
            return None
        token = self._match(header) if header else None
        if token is not None:  # a right credential passes whoever else fails from this address
            return token
        wait = self.limiter.retry_after(client)
        if wait:
            err = APIError(429, "too many failed authentication attempts from %s: retry in %d s" % (client, wait + 1),
                           "too many failed authentication attempts")
            err.headers = {"Retry-After": str(int(wait) + 1)}
            raise err
        if not header:
            raise _unauthorized("authentication required: send 'Authorization: Bearer <token>'")
        count = self.limiter.fail(client)
        log.warning("authentication failed from %s (%d in the last %gs)", client, count, self.limiter.window)
        raise _unauthorized("invalid credentials")


def _trusted(hop: str, trusted) -> bool:
    """Is this hop (an address, or ``unix``) one of ``--forwarded-allow-ips``?"""
    if "*" in trusted:
        return True
    if hop == "unix":
        return "unix" in trusted
    try:
        address = ipaddress.ip_address(hop.split("%", 1)[0])
    except ValueError:
        return False
    return any(entry != "unix" and address in ipaddress.ip_network(entry, strict=False) for entry in trusted)


MAX_HOPS = 32  # an X-Forwarded-For longer than this is read from the right this far only


def client_address(peer: str | None, forwarded_for: str | None, trusted=()) -> str:
    """Who the client is: ``peer`` (``unix`` when empty: a unix-socket
    peer), or, when the peer is trusted, the rightmost hop of
    ``X-Forwarded-For`` that is not trusted itself (every hop trusted: the
    leftmost). A hop that is not an IP address ends the walk: it is taken as
    the client (bounded to 64 characters), since a trusted proxy writes
    addresses only."""
    hop = peer or "unix"
    if not trusted or not forwarded_for or not _trusted(hop, trusted):
        return hop
    hops = [h.strip() for h in forwarded_for.split(",")[-MAX_HOPS:]]
    for candidate in reversed([h for h in hops if h]):
        hop = candidate[:64]
        if not _trusted(hop, trusted):
            return hop
    return hop


def _unauthorized(message: str) -> APIError:
    err = APIError(401, message, "unauthorized")
    err.headers = {"WWW-Authenticate": CHALLENGE}
    return err


# --------------------------------------------------------------------------
# where podproxy may listen without tokens

def bind_host(address: str) -> str | None:
    """The host of a gunicorn bind address; None for unix sockets and
    inherited file descriptors."""
    if address.startswith(("unix:", "fd://")):
        return None
    if address.startswith("["):
        return address[1:].partition("]")[0]
    if address.count(":") > 1:  # a bare IPv6 address
        return address
    return address.rpartition(":")[0] if ":" in address else address


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve to anything


def exposure_problem(settings) -> str | None:
    """Why ``serve`` must not start with these settings, or None."""
    if settings.token_file or settings.insecure:
        return None
    exposed = [a for a in settings.bind if (host := bind_host(a)) is not None and not is_loopback(host)]
    if not exposed:
        return None
    return ("refusing to listen on %s without authentication: podman's API is root-equivalent on this host. "
            "Give --token-file PATH (lines of NAME TOKEN [POLICY]), listen on 127.0.0.1 or a unix socket, "
            "or pass --insecure if something else already guards the port." % ", ".join(exposed))
