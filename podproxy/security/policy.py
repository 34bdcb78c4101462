"""What a request may do: presets and rules over podproxy's routes.

A policy decides on the *route* a request reached (after podman's routing,
so ``%2F`` tricks or a version prefix change nothing), named by its method
and its path without the ``/v{version}`` prefix and with placeholders
reduced to their names::

    GET /libpod/images/{name}/json        DELETE /libpod/images/remove

These are also the paths of the OpenAPI document (``/openapi.json``).

Presets:

* ``read-only``: look, never change or copy out: exists, json (inspect),
  tree, list, history, changes, ping, version, info, and podproxy's own
  openapi/health/metrics routes.
* ``no-export``: everything *except* the routes that can reveal the
  *content* of an image (its files), decided per route from what it can
  reveal:

  - ``get``, ``export`` (and their compat forms), ``push`` and ``scp``
    carry whole images off the host (``EXPORT``);
  - ``build`` reads any local image's files and shows them: ``FROM
    secret`` + ``RUN cat``, ``COPY --from=secret``, ``RUN
    --mount=type=bind,from=secret``, printed in the build stream or copied
    into an image the client then names (``CONTENT``);
  - ``commit``, ``load``, ``import``, ``pull``, tag/untag/remove/prune write
    the store but show no file of it: allowed;
  - ``json``, ``history``, ``tree``, ``changes`` (paths only), list, exists
    show metadata (config, env, labels, history commands, layer ids, changed
    paths), which ``read-only`` shows too: allowed.

  The issue says "read-only without /get and /export"; read-only has
  neither, so that reading would make the two presets the same. We read it
  as "full without the routes that leak image content", which is the case
  the peers (socket proxies) separate.
* ``full``: every route.

Public routes (``PUBLIC``): the web page's static files under ``/ui/``
(``--ui on``). They hold no data and need no token; every preset allows
them and the guard does not ask for credentials (nor apply rules files:
``--ui off`` is how to not serve them). Everything the page shows or does
is an API call that carries the user's token.

Deny by default: a route that is in no list here (a new route nobody
classified) is allowed by ``full`` only.

A rules file (``--policy PATH``) refines a preset, first match wins::

    # what no rule matches is decided by the base (default: deny)
    base read-only
    allow POST   /libpod/images/{name}/untag
    deny  GET    /libpod/images/{name}/tree
    allow GET,HEAD /libpod/*

Methods are a comma list or ``*``; paths are shell patterns (``*``
matches anything, ``/`` too) over the route names above.
"""
from __future__ import annotations

import fnmatch
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass

from ..web.errors import APIError

log = logging.getLogger("podproxy.policy")

_GET = ("GET", "HEAD")

READ = {
    *(("%s" % m, p) for m in _GET for p in ("/_ping", "/libpod/_ping")),
    ("GET", "/version"), ("GET", "/libpod/version"), ("GET", "/libpod/info"),
    ("GET", "/libpod/images/{name}/exists"), ("GET", "/libpod/images/{name}/json"),
    ("GET", "/libpod/images/{name}/tree"), ("GET", "/libpod/images/json"),
    ("GET", "/libpod/images/{name}/history"), ("GET", "/libpod/images/{name}/changes"),
    ("GET", "/libpod/containers/{name}/changes"),
    ("GET", "/images/json"), ("GET", "/images/{name}/json"), ("GET", "/images/{name}/history"),
    ("GET", "/info"),  # compat info: what docker info reads
    # podproxy's own
    ("GET", "/openapi.json"), ("GET", "/access"), ("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics"),
    *(("HEAD", p) for p in ("/healthz", "/readyz")),
}

# the web page's static files (webui.py): no token needed, allowed by every preset
PUBLIC = {(m, p) for m in _GET for p in ("/ui", "/ui/", "/ui/{filename}")}

# whole images leave the host
EXPORT = {
    ("GET", "/libpod/images/{name}/get"), ("GET", "/libpod/images/export"),
    ("GET", "/images/{name}/get"), ("GET", "/images/get"),
    ("POST", "/libpod/images/{name}/push"), ("POST", "/images/{name}/push"),
    ("POST", "/libpod/images/scp/{name}"),
}

# read the files of any local image and show them (stream or a new image): see the docstring
CONTENT = {("POST", "/libpod/build"), ("POST", "/build")}

# change the store (or reach out for images), classified so that no-export allows them
WRITE = {
    ("DELETE", "/libpod/images/remove"), ("DELETE", "/libpod/images/{name}"), ("POST", "/libpod/images/prune"),
    ("POST", "/libpod/images/{name}/untag"), ("POST", "/libpod/images/{name}/tag"),
    ("POST", "/libpod/images/load"), ("POST", "/libpod/images/import"), ("POST", "/libpod/images/pull"),
    ("GET", "/libpod/images/search"), ("POST", "/libpod/commit"),
    ("POST", "/images/create"), ("POST", "/images/load"), ("POST", "/images/prune"), ("GET", "/images/search"),
    ("DELETE", "/images/{name}"), ("POST", "/images/{name}/tag"), ("POST", "/commit"),
}

PRESETS = ("read-only", "no-export", "full")


@dataclass(frozen=True)
class Rule:
    allow: bool
    methods: frozenset | None  # None = any method
    pattern: str

    def matches(self, method: str, path: str) -> bool:
        return (self.methods is None or method in self.methods) and fnmatch.fnmatchcase(path, self.pattern)


class Policy:
    """``allows(method, path)`` over route names; ``name`` is for the log."""

    def __init__(self, name: str, base: str | None, rules: Iterable[Rule] = ()):
        if base is not None and base not in PRESETS:
            raise ValueError("unknown preset %r (use %s)" % (base, ", ".join(PRESETS)))
        self.name = name
        self.base = base
        self.rules = tuple(rules)

    def decide(self, method: str, path: str) -> tuple[bool, str]:
        """(allowed, why) for one route."""
        for number, rule in enumerate(self.rules, 1):
            if rule.matches(method, path):
                return rule.allow, "rule %d of %s" % (number, self.name)
        return preset_allows(self.base, method, path), "preset %s" % (self.base or "deny")

    def allows(self, method: str, path: str) -> bool:
        return self.decide(method, path)[0]


def preset_allows(preset: str | None, method: str, path: str) -> bool:
    key = (method, path)
    if preset == "full" or key in PUBLIC:
        return True
    if preset == "read-only":
        return key in READ
    if preset == "no-export":
        return (key in READ or key in WRITE) and key not in EXPORT and key not in CONTENT
    return False


def parse_rules(text: str, name: str) -> Policy:
    base, rules = None, []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        where = "%s line %d" % (name, number)
        if parts[0] == "base" and len(parts) == 2:
            if parts[1] not in PRESETS:
                raise ValueError("%s: unknown preset %r (use %s)" % (where, parts[1], ", ".join(PRESETS)))
            base = parts[1]
            continue
        if parts[0] not in ("allow", "deny") or len(parts) != 3:
            raise ValueError("%s: expected 'allow|deny METHODS PATH' or 'base PRESET'" % where)
        methods = None if parts[1] == "*" else frozenset(m.upper() for m in parts[1].split(",") if m)
        if not parts[2].startswith(("/", "*")):
            raise ValueError("%s: a path starts with '/' (or is '*')" % where)
        rules.append(Rule(parts[0] == "allow", methods, parts[2]))
    return Policy(name, base, rules)


def load_policy(spec: str | None) -> Policy:
    """A preset name or the path of a rules file."""
    spec = spec or "full"
    if spec in PRESETS:
        return Policy(spec, spec)
    if not os.path.isfile(spec):
        raise ValueError("policy %r is neither a preset (%s) nor a file" % (spec, ", ".join(PRESETS)))
    with open(spec, encoding="utf-8") as f:
        return parse_rules(f.read(), spec)


class Access:
    """The server's policy, narrowed by the token's own policy if it has
    one: a request passes only when both allow it."""

    def __init__(self, server: Policy, token_policies: dict | None = None):
        self.server = server
        self.token_policies = dict(token_policies or {})

    @classmethod
    def build(cls, policy_spec, tokens) -> Access:
        cache: dict[str, Policy] = {}
        per_token = {}
        for token in tokens or ():
            if token.policy:
                per_token[token.name] = (cache.get(token.policy)
                                         or cache.setdefault(token.policy, load_policy(token.policy)))
        return cls(load_policy(policy_spec), per_token)

    def allows(self, method: str, path: str, token=None) -> bool:
        """Whether ``check`` would let the route through for ``token``."""
        policies = [self.server]
        if token is not None and token.name in self.token_policies:
            policies.append(self.token_policies[token.name])
        return all(policy.allows(method, path) for policy in policies)

    def policy_name(self, token=None) -> str:
        """The narrowest policy that applies: the token's own, else the server's."""
        if token is not None and token.name in self.token_policies:
            return self.token_policies[token.name].name
        return self.server.name

    def check(self, method: str, path: str, token=None) -> None:
        """Raise 403 in podman's shape (and log) when the route is denied."""
        policies = [self.server]
        if token is not None and token.name in self.token_policies:
            policies.append(self.token_policies[token.name])
        for policy in policies:
            allowed, why = policy.decide(method, path)
            if not allowed:
                who = token.name if token is not None else "anonymous"
                log.warning("denied %s %s to %s by %s", method, path, who, why)
                raise APIError(403, "access denied: %s %s is not allowed by policy %s" % (method, path, policy.name),
                               "access denied")
