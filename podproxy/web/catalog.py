"""Every route an app serves, with the facts declared on it: podman's
routes (the router's tables, in registration order), then the rules Flask
serves itself (``/healthz``, ``/readyz``, ``/metrics``, ``/access``, the
web page), each named by its policy key (``GET /libpod/images/{name}/json``).
The access policy, the OpenAPI document and ``/access`` read routes from
here and from nowhere else."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .routing import Facts, Route, facts_of, rule_key


@dataclass(frozen=True)
class Served:
    method: str
    key: str
    facts: Facts
    view: Callable
    route: Route | None  # None: a rule Flask serves itself
    table: str  # the route table's name, or the Flask endpoint's blueprint


def flask_rules(app) -> list:
    """``(methods, key, view, endpoint)`` of the rules Flask serves outside
    podman's routing; ``methods`` without OPTIONS (Flask answers it)."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ("dispatch", "static"):
            continue
        methods = tuple(sorted(m for m in rule.methods if m != "OPTIONS"))
        found.append((methods, rule_key(rule.rule), app.view_functions[rule.endpoint], rule.endpoint))
    return found


def served(app) -> list[Served]:
    out: list[Served] = []
    for table in app.extensions["podproxy"].router.tables:
        for route in table.routes:
            out.extend(Served(m, route.key, route.facts, route.view, route, table.name) for m in route.methods)
    for methods, key, view, endpoint in flask_rules(app):
        out.extend(Served(m, key, facts_of(view), view, None, endpoint.partition(".")[0]) for m in methods)
    return out


def access_classes(app) -> dict:
    """``(method, key) -> access class`` (None: undeclared) of every route
    ``app`` serves, as the policy decides on them."""
    classes: dict = {}
    for s in served(app):
        classes.setdefault((s.method, s.key), s.facts.access)
    return classes
