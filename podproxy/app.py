"""The Flask application: ``create_app``, podman's routing and headers, and
the one place where errors become podman's error body."""
from __future__ import annotations

import itertools
import logging

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import PathConverter

from .engine.build import BuildEngine
from .engine.cache import AnswerCache
from .engine.images import ImageEngine
from .engine.podman.errors import EngineError
from .engine.podman.runner import Runner
from .engine.registry import RegistryEngine
from .engine.system import SystemEngine
from .engine.transfers import TransferEngine
from .handlers import errors as handler_errors
from .handlers.health import ops
from .observability import access as observe
from .observability import metrics
from .observability.access import Observed, route_matched
from .security import guard
from .services import EXTENSION, Services, features, services
from .settings import Settings
from .web.bodies import check_declared_size, form_get
from .web.errors import JSON_CONTENT_TYPE, APIError
from .web.query import parse_query
from .web.routing import MethodNotAllowed, NotFound, Router, clean_path

log = logging.getLogger("podproxy")

ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT"]
_ids = itertools.count(0xC000014000, 0xA8)


def route_tables():
    """podman's registration order (server.go: ping, ..., images, info,
    version): the first route that matches path and method wins."""
    from .handlers import build, commit, compat, images, registry, system, transfers
    from .web import openapi

    # scp/{name:.*} goes after every other images table (podman registers
    # it last, so .../{name}/push, /tag, /untag win for scp/x/push...)
    # registry.routes holds push, podman's first images route
    # compat.routes: podman registers its compat images routes first
    return [system.ping_routes, compat.routes, registry.routes, images.routes, transfers.routes, commit.routes,
            build.routes,
            transfers.scp_routes, system.info_routes, system.version_routes, openapi.routes]


def _plain(status: int, text: str) -> Response:
    """Go's http.Error, as mux answers 404/405: no API headers."""
    resp = Response(text + "\n", status=status, content_type="text/plain; charset=utf-8")
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


def request_uri() -> str:
    """The request target as the client sent it (podman's ``r.URL.String()``),
    as text (UTF-8, undecodable bytes kept as surrogates)."""
    env = request.environ
    raw = env.get("RAW_URI") or env.get("REQUEST_URI")
    if not raw:
        from urllib.parse import quote

        raw = quote(env.get("PATH_INFO", ""), safe="/:@!$&'()*+,;=-._~")
        if env.get("QUERY_STRING"):
            raw += "?" + env["QUERY_STRING"]
    if "://" in raw.split("?", 1)[0]:  # absolute-form request target
        rest = raw.split("://", 1)[1]
        raw = "/" + rest.split("/", 1)[1] if "/" in rest else "/"
    return raw.encode("latin-1", "replace").decode("utf-8", "surrogateescape")


def dispatch(**_ignored):
    """Match the request as podman's mux does, decode the route's query,
    call the handler. Router misses answer like mux, without API headers."""
    uri = request_uri()
    path, _, raw_query = uri.partition("?")
    cleaned = clean_path(path)
    if cleaned != path:
        resp = Response(status=301)
        resp.headers.remove("Content-Type")
        resp.headers["Location"] = cleaned + ("?" + raw_query if raw_query else "")
        return resp
    pairs = parse_query(raw_query)
    try:
        route, params = services().router.match(path, request.method, frozenset(k for k, _ in pairs),
                                                has=lambda name: features().has(name))
    except NotFound:
        return _plain(404, "Not Found")
    except MethodNotAllowed:
        return _plain(405, "Method Not Allowed")
    guard.check_route(route)
    g.api_route = route
    route_matched(request.environ, route.template, route.facts.transfer)
    check_declared_size(services().settings.max_body_size)  # every body counts, not only uploads
    g.query_pairs = pairs
    g.request_uri = uri
    if route.query is not None and not route.decode_in_handler:
        params["query"] = route.query.decode(g.query_pairs, uri, form_get)
    return route.view(**params)


def api_headers(resp: Response) -> Response:
    """handler_api.go / handler_rid.go: headers on every routed answer."""
    if g.get("api_route") is None:
        return resp
    version = services().system.version_or_fallback()
    resp.headers["Api-Version"] = "1.41"
    resp.headers["Libpod-Api-Version"] = version.get("APIVersion", "")
    resp.headers["Server"] = "Libpod/%s (linux)" % version.get("Version", "")
    resp.headers["X-Reference-Id"] = request.headers.get("X-Reference-Id") or "0x%x" % next(_ids)
    return resp


def handle_api_error(err: APIError) -> Response:
    resp = Response(err.body(), status=err.status, content_type=JSON_CONTENT_TYPE)
    resp.headers.extend(err.headers)  # WWW-Authenticate, Retry-After
    return resp


def handle_engine_error(err: EngineError) -> Response:
    """An engine error no handler translated: answered by its kind."""
    return handle_api_error(handler_errors.answer(err))


def handle_unexpected(err: Exception) -> Response:
    """podman's panic handler answers 500 with its error body; so do we,
    with the traceback in the log and never in the answer."""
    if isinstance(err, HTTPException):
        if err.code == 413:
            return handle_api_error(APIError(413, "request body too large"))
        return handle_api_error(APIError(err.code or 500, err.description or err.name))
    log.exception("internal error on %s %s", request.method, request.path)
    return handle_api_error(APIError(500, "internal error: %s" % type(err).__name__))


class AnyPath(PathConverter):
    """werkzeug's ``path`` without its newline gap: ``%0A`` in a name must
    reach podman's routing like any other byte, not a werkzeug 404."""

    regex = "(?s:.+)"
    part_isolating = False


def create_app(config: dict | None = None, settings: Settings | None = None) -> Flask:
    """The Flask app. ``settings`` defaults to ``Settings.from_env()``;
    ``config`` is merged into Flask's config (e.g. ``{"TESTING": True}``)."""
    app = Flask(__name__)
    app.config.update(config or {})
    settings = settings or Settings.from_env()
    app.url_map.merge_slashes = False
    app.url_map.strict_slashes = False
    app.url_map.converters["everything"] = AnyPath
    runner = Runner(settings.podman, list(settings.podman_option), timeout=settings.podman_timeout)
    runner.observers += [metrics.podman_finished, observe.podman_finished]
    system = SystemEngine(runner)
    cache = AnswerCache(runner, info=lambda: system.info(cached=True)) if settings.cache else None
    app.extensions[EXTENSION] = Services(
        settings=settings,
        runner=runner,
        images=ImageEngine(runner, cache),
        system=system,
        router=Router(route_tables()),
        transfers=TransferEngine(runner),
        registry=RegistryEngine(runner),
        builder=BuildEngine(runner),
    )
    # Every request goes through ``dispatch``; werkzeug's router only
    # forwards (podman's matching rules differ from werkzeug's).
    app.register_blueprint(ops)  # /healthz, /readyz, /metrics, /access: outside podman's routing
    if settings.ui:
        from .handlers.webui import ui

        app.register_blueprint(ui)  # /ui/: the web page's static files
    app.add_url_rule("/", "dispatch", dispatch, methods=ALL_METHODS, provide_automatic_options=False)
    app.add_url_rule("/<everything:_any>", "dispatch", dispatch, methods=ALL_METHODS, provide_automatic_options=False)
    guard.install(app, settings)
    app.after_request(api_headers)
    app.register_error_handler(APIError, handle_api_error)
    app.register_error_handler(EngineError, handle_engine_error)
    app.register_error_handler(Exception, handle_unexpected)
    app.wsgi_app = Observed(app.wsgi_app, settings.log_format)  # type: ignore[method-assign]  # Flask's middleware idiom
    return app
