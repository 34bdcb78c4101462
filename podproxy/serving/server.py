"""Serving the app under gunicorn with ``gunicorn_conf.py`` as the
configuration (see there for why each value)."""
from __future__ import annotations

import importlib.util
import os
import tempfile

from gunicorn.app.base import BaseApplication
from gunicorn.http import wsgi as _gunicorn_wsgi

from ..settings import Settings

CONFIG_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gunicorn_conf.py")

_active: Settings | None = None

METRICS_ENV = "PROMETHEUS_MULTIPROC_DIR"
OWNED_METRICS_ENV = "_PODPROXY_OWNED_METRICS_DIR"  # a temp dir of ours: removed at exit


def metrics_dir() -> str:
    """Prometheus' multiprocess directory: the one given, or a temp dir of
    our own. The master calls this before it imports the app, since
    ``prometheus_client`` decides at import whether it runs in
    multiprocess mode."""
    path = os.environ.get(METRICS_ENV)
    if not path:
        path = tempfile.mkdtemp(prefix="podproxy-metrics-")
        os.environ[METRICS_ENV] = os.environ[OWNED_METRICS_ENV] = path
    return path


def active_settings() -> Settings:
    """The settings ``podproxy serve`` parsed, or the environment's (plain
    gunicorn with the config file)."""
    return _active if _active is not None else Settings.from_env()


def own_server_header():
    """gunicorn writes its own ``Server: gunicorn`` and drops the app's
    (it counts Server as hop-by-hop). podman's clients see
    ``Server: Libpod/...`` from podman's service, so use the app's value."""
    original = _gunicorn_wsgi.Response.process_headers
    if getattr(original, "_podproxy", False):
        return

    def process_headers(self, headers):
        for name, value in headers:
            if isinstance(name, str) and name.lower() == "server":
                self.version = value
        return original(self, headers)

    process_headers._podproxy = True  # type: ignore[attr-defined]
    _gunicorn_wsgi.Response.process_headers = process_headers


def read_config(path: str = CONFIG_FILE) -> dict:
    """The names a gunicorn config file defines, evaluated now (so with the
    settings active now), as ``gunicorn -c`` reads them."""
    spec = importlib.util.spec_from_file_location("podproxy_gunicorn_config", path)
    if spec is None or spec.loader is None:
        raise ImportError("cannot load a gunicorn config from %s" % path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return vars(module)


class PodproxyServer(BaseApplication):
    def __init__(self, settings: Settings):
        self.settings = settings
        super().__init__()

    def load_config(self):
        for key, value in read_config().items():
            if key in self.cfg.settings and key != "wsgi_app":
                self.cfg.set(key, value)

    def load(self):
        metrics_dir()  # before prometheus_client is imported
        from ..app import create_app

        return create_app(settings=self.settings)


def serve(settings: Settings) -> None:
    global _active
    _active = settings
    PodproxyServer(settings).run()
