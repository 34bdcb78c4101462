"""gunicorn's configuration for podproxy: the single source.

``podproxy serve`` loads this file with the settings it parsed; plain
gunicorn can use it too (``deploy/gunicorn.conf.py`` imports it), then the
settings come from the ``PODPROXY_*`` variables::

    gunicorn -c deploy/gunicorn.conf.py            # wsgi_app below

It ships inside the package so that a non-editable install has it.

Why these values:

* ``gthread`` workers (``podproxy.serving.worker``: each accepts only its fair share
  of keep-alive connections, so that one worker does not serve them all):
  ``timeout`` is then a heartbeat of the worker process, not a limit on one
  request, so an export or load of many minutes is not killed half way (a
  sync worker would kill it and splice a 500 into it).
* ``graceful_timeout``: on SIGTERM, running requests (transfers) get that
  long; then the master kills the workers. A second SIGTERM does not wait
  (``_second_term_is_quick``). podman children get SIGTERM when their worker
  dies (runner: parent-death signal), so none outlives the server.
* request line/header limits: podman clients send short requests; image
  names are at most a few hundred bytes, filters a few KB.
* ``umask``: gunicorn binds unix sockets under it, so they are born 0600
  and never more open than asked; ``when_ready`` then sets the group and
  mode of ``--socket-group``/``--socket-mode`` (``podproxy.security.unixsock``).
* access log: podproxy writes one structured line per request when the
  answer is done (``podproxy.observability.access``), through gunicorn's access log
  handler, instead of gunicorn's own line (``observability.gunicorn_logger``).
* ``preload_app``: the master imports and builds the app once and the workers
  are forked from it with the app's objects frozen out of the garbage
  collector's reach (``gc.freeze`` in ``pre_fork``), so the workers share those
  pages instead of each holding its own copy (the memory this saves:
  docs/production.md).
* Prometheus multiprocess mode: ``PROMETHEUS_MULTIPROC_DIR`` is set (a temp
  dir unless given) by the master before it loads the app and with it
  ``prometheus_client`` (``server.metrics_dir``); it is wiped before the workers start, and a dead
  worker's files are marked in ``child_exit``.
"""
import gc
import os
import shutil
import signal
import time

from podproxy.security import unixsock
from podproxy.serving import server as _server

settings = _server.active_settings()

wsgi_app = "podproxy.serving.wsgi:app"  # plain gunicorn; ``podproxy serve`` hands over its own app
bind = list(settings.bind)
workers = settings.workers
worker_class = "podproxy.serving.worker.BalancedThreadWorker"  # gthread, sharing connections fairly
preload_app = True
threads = settings.threads
timeout = 30  # heartbeat, not a request limit, under gthread
graceful_timeout = max(1, round(settings.graceful_timeout))
keepalive = 5
accesslog = "-"
errorlog = "-"
loglevel = settings.log_level
logger_class = "podproxy.observability.gunicorn_logger.GunicornLogger"
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 16384
umask = unixsock.BIND_UMASK  # unix sockets are bound 0600; when_ready gives them --socket-mode/--socket-group
control_socket_disable = True  # gunicorn 23+: one fixed path per host otherwise

_METRICS_ENV = _server.METRICS_ENV


def _prepare_metrics_dir(arbiter):
    """Before the workers start: the directory emptied of a previous run's
    files."""
    path = _server.metrics_dir()
    os.makedirs(path, exist_ok=True)
    for name in os.listdir(path):
        if name.endswith(".db"):
            os.unlink(os.path.join(path, name))


def _second_term_is_quick(arbiter):
    """gunicorn waits the whole graceful timeout after SIGTERM and ignores
    another SIGTERM meanwhile (only SIGINT/SIGQUIT cut it short). Turn a
    second SIGTERM into SIGQUIT: workers are told to quit, then killed."""
    queue_signal = arbiter.signal
    seen: list = []

    def on_signal(sig, frame):
        if sig == signal.SIGTERM:
            if seen:
                sig = signal.SIGQUIT
            seen.append(sig)
        queue_signal(sig, frame)

    arbiter.signal = on_signal  # init_signals() runs after on_starting and installs this


def _sweep_scratch(wait: float = 0.0):
    """Temp dirs of dead workers (``podproxy.engine.scratch``); with ``wait``,
    again until none is left (their podman children get SIGTERM when the
    worker dies, and may still write for a moment)."""
    from podproxy.engine import scratch

    deadline = time.monotonic() + wait
    while scratch.sweep() and time.monotonic() < deadline:
        time.sleep(0.1)


def on_starting(arbiter):
    _sweep_scratch()  # left by a server that was killed
    _server.own_server_header()
    _prepare_metrics_dir(arbiter)
    _second_term_is_quick(arbiter)


def when_ready(arbiter):
    """The unix sockets gunicorn has just bound (0600, under ``umask``) get
    the group and mode asked for (``podproxy.security.unixsock``)."""
    unixsock.apply(settings, systemd_activated=arbiter.systemd)


def pre_fork(arbiter, worker):
    """The preloaded app's objects stay shared with the workers: the
    collector of a worker never writes into them."""
    gc.collect()
    gc.freeze()


def child_exit(arbiter, worker):
    from prometheus_client import multiprocess

    from podproxy.serving.fairshare import TABLE

    TABLE.clear(TABLE.slot(worker.age))  # no waiting for its heartbeat to go stale
    _sweep_scratch()  # a worker killed half way through a transfer leaves its own

    multiprocess.mark_process_dead(worker.pid)


def _reap_workers(timeout: float) -> None:
    """Wait for the workers to be gone: gunicorn's last reap can come before
    a worker it has just sent SIGKILL (end of the graceful timeout, or a
    second SIGTERM) is dead, and a live worker's scratch dirs are its own."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            if time.monotonic() > deadline:
                return
            time.sleep(0.05)


def on_exit(arbiter):
    _reap_workers(5.0)
    _sweep_scratch(wait=3.0)
    path = os.environ.get(_server.OWNED_METRICS_ENV)
    if path and path == os.environ.get(_METRICS_ENV):
        shutil.rmtree(path, ignore_errors=True)

