"""Prometheus metrics, correct under several gunicorn workers.

``prometheus_client`` decides at import whether it runs in multiprocess mode
(``PROMETHEUS_MULTIPROC_DIR`` set): the gunicorn config sets and wipes that
directory in the master before any worker imports this module, and marks a
dead worker's files in ``child_exit``. ``/metrics`` then aggregates every
worker's files; without the variable (tests, ``flask run``) the process's
own registry is served.
"""
from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# Image transfers take minutes: the buckets go up to an hour.
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)

REQUESTS = Counter("podproxy_http_requests_total", "HTTP requests answered, by route template and status.",
                   ["method", "route", "status"])
LATENCY = Histogram("podproxy_http_request_duration_seconds",
                    "Time from the request to the end of its answer (streams included), by route template.",
                    ["method", "route"], buckets=_LATENCY_BUCKETS)
BYTES = Counter("podproxy_http_bytes_total", "Body bytes read from clients (in) and sent to them (out).",
                ["direction"])
PODMAN_CALLS = Counter("podproxy_podman_invocations_total", "podman processes that ended, by subcommand and exit code.",
                       ["subcommand", "exit_code"])
PODMAN_SECONDS = Histogram("podproxy_podman_duration_seconds", "How long podman processes ran, by subcommand.",
                           ["subcommand"], buckets=_LATENCY_BUCKETS)
TRANSFERS = Gauge("podproxy_transfers_in_flight", "Image transfers (export, load, import) being served now.",
                  multiprocess_mode="livesum")


def podman_finished(subcommand: str, exit_code: int | None, seconds: float) -> None:
    """A ``Runner`` observer."""
    PODMAN_CALLS.labels(subcommand, str(exit_code)).inc()
    PODMAN_SECONDS.labels(subcommand).observe(seconds)


def exposition() -> tuple[bytes, str]:
    """The text format of every worker's metrics (or this process's)."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return generate_latest(registry), CONTENT_TYPE_LATEST
