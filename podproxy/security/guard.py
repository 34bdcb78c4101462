"""The gate every request passes: authentication first (before routing, so
that an unauthenticated client learns nothing, not even which paths exist),
then the access policy on the route the request reached (``check_route``,
called by the dispatcher after podman's routing and before any decoding).

Routes served by a Flask rule of their own instead of the dispatcher are
checked here too, by the rule's path, so no route can slip past the policy.
Routes that declare ``access=PUBLIC`` (the web page's static files) are the
one exception: they are served to anyone, without credentials.
"""
from __future__ import annotations

from flask import current_app, g, request

from ..settings import Settings
from ..web.catalog import access_classes
from ..web.routing import rule_key
from .auth import Authenticator, client_address, load_tokens
from .policy import PUBLIC, Access

EXTENSION = "podproxy.guard"


class Guard:
    def __init__(self, auth: Authenticator, access: Access, trusted_proxies=()):
        self.auth = auth
        self.access = access
        self.trusted_proxies = tuple(trusted_proxies)  # --forwarded-allow-ips

    @classmethod
    def from_settings(cls, settings: Settings, classes: dict | None = None) -> Guard:
        """``classes``: the served routes' access classes (``web.catalog.access_classes``)."""
        tokens = load_tokens(settings.token_file) if settings.token_file else []
        return cls(Authenticator(tokens), Access.build(settings.policy, tokens, classes), settings.forwarded_allow_ips)


def _guard() -> Guard:
    return current_app.extensions[EXTENSION]


def authenticate() -> None:
    """before_request: 401/429 unless the request carries a known token.
    The failure brake counts per client address (``auth.client_address``:
    from ``X-Forwarded-For`` only when the peer is a trusted proxy)."""
    guard = _guard()
    rule = request.url_rule
    key = None
    if rule is not None and request.endpoint != "dispatch":
        key = rule_key(rule.rule)
        if guard.access.classes.get((request.method, key)) == PUBLIC:
            g.token = None
            return
    forwarded = ",".join(request.headers.getlist("X-Forwarded-For"))
    client = client_address(request.remote_addr, forwarded, guard.trusted_proxies)
    g.token = guard.auth.authenticate(request.headers.get("Authorization"), client)
    if key is not None:
        guard.access.check(request.method, key, g.token)


def access() -> Access:
    return _guard().access


def check_route(route) -> None:
    """403 unless the policy (server's and token's) allows this route."""
    _guard().access.check(request.method, route.key, g.get("token"))


def install(app, settings: Settings) -> None:
    """After every route is registered: the policy decides over the routes ``app`` serves."""
    app.extensions[EXTENSION] = Guard.from_settings(settings, access_classes(app))
    app.before_request(authenticate)
