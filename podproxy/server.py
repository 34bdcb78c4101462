"""Serving the app under gunicorn, configured from ``Settings``.

Threaded workers (``gthread``): a worker's ``timeout`` is then a heartbeat
of the worker process, not a limit on one request, so an export or load of
many minutes is not killed half way (sync workers would kill it and splice
a 500 into the body).
"""
from __future__ import annotations

from gunicorn.app.base import BaseApplication
from gunicorn.http import wsgi as _gunicorn_wsgi

from .app import create_app
from .settings import Settings


def _own_server_header():
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

    process_headers._podproxy = True
    _gunicorn_wsgi.Response.process_headers = process_headers


def gunicorn_options(settings: Settings) -> dict:
    return {
        "bind": list(settings.bind),
        "workers": settings.workers,
        "worker_class": "gthread",
        "threads": settings.threads,
        "timeout": 30,  # heartbeat, not a request limit, under gthread
        "graceful_timeout": int(settings.graceful_timeout),
        "keepalive": 5,
        "accesslog": "-",
        "errorlog": "-",
        "loglevel": settings.log_level,
        "limit_request_line": 8190,
        "limit_request_fields": 100,
        "limit_request_field_size": 16384,
        "control_socket_disable": True,  # gunicorn 23+: one fixed path per host otherwise
    }


class PodproxyServer(BaseApplication):
    def __init__(self, settings: Settings):
        self.settings = settings
        super().__init__()

    def load_config(self):
        for key, value in gunicorn_options(self.settings).items():
            self.cfg.set(key, value)

    def load(self):
        return create_app(settings=self.settings)


def serve(settings: Settings) -> None:
    _own_server_header()
    PodproxyServer(settings).run()
