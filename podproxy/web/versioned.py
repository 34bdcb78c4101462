"""Query structs whose parameters depend on the running podman release.

``ByVersion(BASE, pull_retry=(Int("retry"), ...))`` decodes like ``BASE``
plus the parameters of each behaviour (``engine.versions``) the running
podman has: podman 4.3.1 ignores a key it does not know, podman 5
validates it (``schema: error converting value for "retry"``).
"""
from __future__ import annotations

from ..services import features
from .query import Param, Query, Values


class ByVersion:
    """A route's ``query`` (duck-typed as ``Query``)."""

    def __init__(self, base: Query, **extra: tuple[Param, ...]):
        self.base = base
        self.extra = extra
        self._built: dict[frozenset, Query] = {}

    @property
    def params(self) -> tuple:
        """Every parameter some podman release decodes (for the OpenAPI document)."""
        return self.base.params + tuple(p for name in self.extra for p in self.extra[name])

    @property
    def filters(self):
        return self.base.filters

    def query(self) -> Query:
        """The ``Query`` of the running podman."""
        f = features()
        on = frozenset(name for name in self.extra if f.has(name))
        built = self._built.get(on)
        if built is None:
            params = self.base.params + tuple(p for name in sorted(on) for p in self.extra[name])
            built = self._built[on] = Query(*params, error_status=self.base.error_status, filters=self.base.filters)
        return built

    def decode(self, pairs: list, url: str, form_get=None) -> Values:
        return self.query().decode(pairs, url, form_get)


class CompatQuery:
    """A compat route's ``query`` (duck-typed as ``Query``): ``base`` (a
    ``Query`` or ``ByVersion``) decoded with Docker's booleans when the
    running podman has ``compat_docker_bools`` (4.7+), as it is."""

    def __init__(self, base):
        self.base = base
        self._docker: dict[int, Query] = {}

    @property
    def params(self) -> tuple:
        return self.base.params

    @property
    def filters(self):
        return self.base.filters

    def query(self) -> Query:
        base = self.base.query() if isinstance(self.base, ByVersion) else self.base
        if not features().compat_docker_bools:
            return base
        built = self._docker.get(id(base))
        if built is None:
            built = self._docker[id(base)] = base.with_docker_bools()
        return built

    def decode(self, pairs: list, url: str, form_get=None) -> Values:
        return self.query().decode(pairs, url, form_get)
