"""gunicorn's logger, with podproxy's per-request line as the access log.

gunicorn's own access line is written before a streamed answer is closed
and knows neither the route nor podman's exit code; podproxy's
(``observability/access.py``) is written when the answer is done. This logger sends
``podproxy.access`` to wherever ``accesslog`` points and podproxy's own
error logs to gunicorn's error log."""
from __future__ import annotations

import logging

from gunicorn.glogging import Logger


class GunicornLogger(Logger):
    def setup(self, cfg):
        super().setup(cfg)
        for name, source in (("podproxy.access", self.access_log), ("podproxy", self.error_log)):
            target = logging.getLogger(name)
            target.handlers = list(source.handlers)
            target.setLevel(logging.INFO if name == "podproxy.access" else source.level)
            target.propagate = False

    def access(self, resp, req, environ, request_time):
        """podproxy writes its own line when the answer is done."""
