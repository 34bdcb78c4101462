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

  It is "full without the routes that leak image content" (read-only
  already has neither get nor export), the case the peers (socket
  proxies) separate.
* ``full``: every route.

Public routes (``PUBLIC``): the web page's static files under ``/ui/``
(``--ui on``). They hold no data and need no token; every preset allows
them and the guard does not ask for credentials (nor apply rules files:
``--ui off`` is how to not serve them). Everything the page shows or does
is an API call that carries the user's token.

Each route declares its class on its registration (``route(...,
access=READ)``: READ, WRITE, EXPORT, CONTENT, PUBLIC below); the policy
decides over the routes the app serves (``web.catalog.access_classes``).
Deny by default: a route that declares no class, or a path podproxy does
not serve, is allowed by ``full`` only.

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
from dataclasses import dataclass

from ..web.errors import APIError

log = logging.getLogger("podproxy.policy")

# The access classes a route declares (``route(..., access=READ)``; the
# docstring above says which routes are which and why).
READ = "read"  # look: metadata, never an image's files
WRITE = "write"  # change the store or reach out for images, showing no file of it
EXPORT = "export"  # whole images leave the host
CONTENT = "content"  # reads the files of any local image and shows them (build)
PUBLIC = "public"  # the web page's static files: no token needed, every preset allows them
CLASSES = (READ, WRITE, EXPORT, CONTENT, PUBLIC)

PRESETS = ("read-only", "no-export", "full")


@dataclass(frozen=True)
class Rule:
    allow: bool
    methods: frozenset | None  # None = any method
    pattern: str

    def matches(self, method: str, path: str) -> bool:
        return (self.methods is None or method in self.methods) and fnmatch.fnmatchcase(path, self.pattern)


class Policy:
    """``allows(method, path)`` over route names; ``classes`` maps each
    served ``(method, path)`` to the access class its route declares
    (``web.catalog.access_classes``); ``name`` is for the log."""

    def __init__(self, name: str, base: str | None, rules: tuple = (), classes: dict | None = None):
        if base is not None and base not in PRESETS:
            raise ValueError("unknown preset %r (use %s)" % (base, ", ".join(PRESETS)))
        self.name = name
        self.base = base
        self.rules = tuple(rules)
        self.classes = dict(classes or {})

    def decide(self, method: str, path: str) -> tuple[bool, str]:
        """(allowed, why) for one route."""
        for number, rule in enumerate(self.rules, 1):
            if rule.matches(method, path):
                return rule.allow, "rule %d of %s" % (number, self.name)
        return preset_allows(self.base, self.classes.get((method, path))), "preset %s" % (self.base or "deny")

    def allows(self, method: str, path: str) -> bool:
        return self.decide(method, path)[0]


def preset_allows(preset: str | None, access: str | None) -> bool:
    """Whether ``preset`` allows a route of access class ``access`` (None:
    a route that declares none, or that podproxy does not serve)."""
    if preset == "full" or access == PUBLIC:
        return True
    if preset == "read-only":
        return access == READ
    if preset == "no-export":
        return access in (READ, WRITE)
    return False


def parse_rules(text: str, name: str, classes: dict | None = None) -> Policy:
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
    return Policy(name, base, tuple(rules), classes)


def load_policy(spec: str | None, classes: dict | None = None) -> Policy:
    """A preset name or the path of a rules file, deciding over ``classes``."""
    spec = spec or "full"
    if spec in PRESETS:
        return Policy(spec, spec, (), classes)
    if not os.path.isfile(spec):
        raise ValueError("policy %r is neither a preset (%s) nor a file" % (spec, ", ".join(PRESETS)))
    with open(spec, encoding="utf-8") as f:
        return parse_rules(f.read(), spec, classes)


class Access:
    """The server's policy, narrowed by the token's own policy if it has
    one: a request passes only when both allow it."""

    def __init__(self, server: Policy, token_policies: dict | None = None):
        self.server = server
        self.token_policies = dict(token_policies or {})

    @property
    def classes(self) -> dict:
        return self.server.classes

    @classmethod
    def build(cls, policy_spec, tokens, classes: dict | None = None) -> Access:
        """``classes``: the served routes' access classes (``web.catalog.access_classes``)."""
        cache: dict[str, Policy] = {}
        per_token = {}
        for token in tokens or ():
            if token.policy:
                per_token[token.name] = cache.get(token.policy) or cache.setdefault(
                    token.policy, load_policy(token.policy, classes))
        return cls(load_policy(policy_spec, classes), per_token)

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
