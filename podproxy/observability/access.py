"""Per-request observation: one structured log line and the HTTP metrics.

``Observed`` wraps the WSGI app. It starts a ``RequestRecord`` before the
app runs and finishes it when the server closes the answer, which for an
image stream is when the last byte went out (or the client went away), so
the duration, the byte counts and podman's exit code in the line are those
of the whole transfer. The dispatcher tells the record the route template
(``route_matched``); the runner tells it podman's exit codes through an
observer (``podman_finished``), via the thread that serves the request.
"""
from __future__ import annotations

import datetime
import json
import logging
import os
import threading
import time

from ..web.routing import route_key
from . import metrics

ACCESS_LOG = logging.getLogger("podproxy.access")
ENVIRON_KEY = "podproxy.record"
UNMATCHED = "unmatched"
_METHODS = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"}
_current = threading.local()
COUNT_STEP = 4 << 20  # bytes between updates of the byte counters


class RequestRecord:
    """What one request did, filled in as it goes."""

    def __init__(self, environ):
        self.start = time.monotonic()
        self.time = datetime.datetime.now(datetime.timezone.utc)
        self.method = environ.get("REQUEST_METHOD", "")
        self.target = environ.get("RAW_URI") or environ.get("PATH_INFO", "")
        self.remote = environ.get("REMOTE_ADDR") or "-"
        self.user_agent = environ.get("HTTP_USER_AGENT", "")
        self.request_id = environ.get("HTTP_X_REFERENCE_ID", "")
        self.route = UNMATCHED
        self.status = 0
        self.bytes_in = self._counted_in = 0
        self.bytes_out = self._counted_out = 0
        self.podman_exit: int | None = None  # the last failing podman's exit code, else 0; None: no podman
        self.podman_calls = 0
        self.complete = False  # the whole answer went out
        self.content_length: int | None = None
        self.transfer = False
        self._done = False

    def matched(self, template: str, transfer: str | None = None) -> None:
        self.route = route_key(template)  # readable, low-cardinality
        if not self.transfer and transfer:
            self.transfer = True
            metrics.TRANSFERS.inc()

    def read(self, n: int) -> None:
        self.bytes_in += n
        if self.bytes_in - self._counted_in >= COUNT_STEP:
            self._count_bytes()

    def wrote(self, n: int) -> None:
        self.bytes_out += n
        if self.bytes_out - self._counted_out >= COUNT_STEP:
            self._count_bytes()

    def _count_bytes(self) -> None:
        """Into the byte counters: every ``COUNT_STEP`` and at the end (a
        metric update per chunk of a transfer cost more than the chunk)."""
        if self.bytes_in > self._counted_in:
            metrics.BYTES.labels("in").inc(self.bytes_in - self._counted_in)
            self._counted_in = self.bytes_in
        if self.bytes_out > self._counted_out:
            metrics.BYTES.labels("out").inc(self.bytes_out - self._counted_out)
            self._counted_out = self.bytes_out

    def fields(self) -> dict:
        return {
            "time": self.time.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "remote": self.remote,
            "method": self.method,
            "target": self.target,
            "route": self.route,
            "status": self.status,
            "duration_ms": round((time.monotonic() - self.start) * 1000, 1),
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
            "podman_exit": self.podman_exit,
            "podman_calls": self.podman_calls,
            "request_id": self.request_id or "-",
            "complete": self.complete,
            "user_agent": self.user_agent,
            "pid": os.getpid(),
        }

    def finish(self, log_format: str) -> None:
        if self._done:
            return
        self._done = True
        if self.content_length is not None and self.bytes_out == self.content_length and self.status:
            self.complete = True  # a server may stop iterating once Content-Length bytes went out
        if self.transfer:
            metrics.TRANSFERS.dec()
        self._count_bytes()
        fields = self.fields()
        method = self.method if self.method in _METHODS else "other"
        metrics.REQUESTS.labels(method, self.route, str(self.status)).inc()
        metrics.LATENCY.labels(method, self.route).observe(fields["duration_ms"] / 1000)
        ACCESS_LOG.info(format_line(fields, log_format))


def format_line(fields: dict, log_format: str) -> str:
    """One line: JSON, or ``key=value`` text after a common-log-like head."""
    if log_format == "json":
        return json.dumps(fields, separators=(",", ":"))
    head = '%s "%s %s" %s %d' % (fields["remote"], fields["method"], fields["target"], fields["status"],
                                 fields["bytes_out"])
    rest = " ".join("%s=%s" % (k, "-" if fields[k] is None else fields[k])
                    for k in ("route", "duration_ms", "bytes_in", "podman_exit", "request_id", "complete"))
    return head + " " + rest


def route_matched(environ, template: str, transfer: str | None = None) -> None:
    """Called by the dispatcher once it knows the route: its template and
    the transfer kind it declares (``route(..., transfer="export")``), which
    the ``podproxy_transfers_in_flight`` gauge counts."""
    record = environ.get(ENVIRON_KEY)
    if record is not None:
        record.matched(template, transfer)


def podman_finished(subcommand: str, exit_code: int | None, seconds: float) -> None:
    """A ``Runner`` observer: the request served by this thread ran podman."""
    record = getattr(_current, "record", None)
    if record is not None:
        record.podman_calls += 1
        if exit_code != 0 or record.podman_exit is None:  # the last failure shows, else 0
            record.podman_exit = exit_code


class _CountingInput:
    """``wsgi.input`` that counts what the app reads (``raw``: the
    server's own stream, for a reader that counts by itself)."""

    def __init__(self, stream, record: RequestRecord):
        self._stream = self.raw = stream
        self._record = record

    def read(self, *args):
        data = self._stream.read(*args)
        self._record.read(len(data))
        return data

    def readline(self, *args):
        data = self._stream.readline(*args)
        self._record.read(len(data))
        return data

    def readlines(self, *args):
        lines = self._stream.readlines(*args)
        self._record.read(sum(map(len, lines)))
        return lines

    def __iter__(self):
        for line in self._stream:
            self._record.read(len(line))
            yield line

    def __getattr__(self, name):
        return getattr(self._stream, name)


class _ObservedBody:
    """The app's answer, counted; ``close`` ends the record."""

    def __init__(self, body, record: RequestRecord, log_format: str):
        self._body = body
        self._record = record
        self._log_format = log_format

    def __iter__(self):
        _current.record = self._record
        for chunk in self._body:
            self._record.wrote(len(chunk))
            yield chunk
        self._record.complete = True

    def close(self):
        _current.record = self._record
        try:
            if hasattr(self._body, "close"):
                self._body.close()
        finally:
            _current.record = None
            self._record.finish(self._log_format)


class Observed:
    """WSGI middleware: ``app.wsgi_app = Observed(app.wsgi_app, "json")``."""

    def __init__(self, app, log_format: str = "text"):
        self.app = app
        self.log_format = log_format

    def __call__(self, environ, start_response):
        record = RequestRecord(environ)
        environ[ENVIRON_KEY] = record
        if environ.get("wsgi.input") is not None:
            environ["wsgi.input"] = _CountingInput(environ["wsgi.input"], record)
        _current.record = record

        def observed_start_response(status, headers, exc_info=None):
            record.status = int(status.split(" ", 1)[0])
            for name, value in headers:
                if name.lower() == "x-reference-id":
                    record.request_id = value
                elif name.lower() == "content-length" and value.isdigit():
                    record.content_length = int(value)
            return start_response(status, headers, exc_info)

        try:
            body = self.app(environ, observed_start_response)
        except BaseException:
            record.status = record.status or 500
            _current.record = None
            record.finish(self.log_format)
            raise
        return _ObservedBody(body, record, self.log_format)
