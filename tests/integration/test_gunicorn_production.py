"""podproxy under gunicorn as deployed: the config file is the single
source, metrics add up across workers, one JSON line per request."""
import json
import os
import subprocess
import sys
import time

from helpers import HTTP, Server, free_port, metric, start_podproxy

from podproxy.serving import server
from podproxy.settings import Settings

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEPLOY_CONF = os.path.join(ROOT, "deploy", "gunicorn.conf.py")
GUNICORN_NAMES = ("bind", "workers", "worker_class", "threads", "timeout", "graceful_timeout", "keepalive",
                  "accesslog", "errorlog", "loglevel", "logger_class", "limit_request_line",
                  "limit_request_fields", "limit_request_field_size", "preload_app", "on_starting", "pre_fork",
                  "child_exit", "on_exit", "umask", "when_ready")


def test_config_file_follows_serves_settings(monkeypatch):
    monkeypatch.setattr(server, "_active", Settings(bind=["unix:/run/p.sock", "127.0.0.1:9"], workers=3,
                                                     threads=5, graceful_timeout=42, log_level="debug"))
    conf = server.read_config()
    assert conf["bind"] == ["unix:/run/p.sock", "127.0.0.1:9"]
    assert (conf["workers"], conf["threads"], conf["graceful_timeout"]) == (3, 5, 42)
    assert conf["worker_class"] == "podproxy.serving.worker.BalancedThreadWorker" and conf["loglevel"] == "debug"
    assert conf["limit_request_line"] > 0 and conf["limit_request_fields"] > 0


def test_deploy_file_is_the_packaged_config(monkeypatch):
    """deploy/gunicorn.conf.py only imports the packaged file: same values,
    taken from PODPROXY_* when plain gunicorn reads it."""
    monkeypatch.setattr(server, "_active", None)
    monkeypatch.setenv("PODPROXY_WORKERS", "7")
    monkeypatch.setenv("PODPROXY_GRACEFUL_TIMEOUT", "11")
    packaged = server.read_config()
    import podproxy.serving.gunicorn_conf  # noqa: F401  (the deploy file imports it by name)
    sys.modules.pop("podproxy.serving.gunicorn_conf")
    deployed = server.read_config(DEPLOY_CONF)
    for name in GUNICORN_NAMES:
        assert name in deployed, name
        same = deployed[name] == packaged[name] or (callable(packaged[name]) and
                                                    deployed[name].__code__ == packaged[name].__code__)
        assert same, name
    assert deployed["workers"] == 7 and deployed["graceful_timeout"] == 11


def _scrape(http):
    return http.request("GET", "/metrics").text


def _sample(text, name, labels):
    return metric(text, name, **labels)


def _settled(http, name, labels, want, timeout=5.0):
    """The metric's value once it reaches ``want`` (a request is counted
    when the server closes its answer, just after the client got it)."""
    deadline = time.monotonic() + timeout
    while True:
        value = _sample(_scrape(http), name, labels)
        if value == want or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def test_metrics_add_up_across_workers_and_logs_are_json(store):
    # --cache off: every request must run podman for the invocation counts
    srv = start_podproxy(store, "--log-format", "json", "--cache", "off", workers=2)
    try:
        http = srv.http
        # keep asking until both workers served some (each request is a new connection)
        sent = 0
        for _ in range(60):
            assert http.request("GET", "/v4.3.1/libpod/images/absent:x/exists",
                                headers={"X-Reference-Id": "req-%d" % sent}).status == 404
            sent += 1
            if sent >= 8 and len({line["pid"] for line in _lines(srv, "/v4.3.1/libpod/images/absent:x/exists")}) > 1:
                break
        served_by = {line["pid"] for line in _lines(srv, "/v4.3.1/libpod/images/absent:x/exists")}
        assert len(served_by) == 2, "the kernel gave every connection to one worker"
        labels = dict(method="GET", route="/v{version}/libpod/images/{name}/exists", status="404")
        assert _settled(http, "podproxy_http_requests_total", labels, sent) == sent
        for _ in range(4):  # whichever worker answers /metrics, it reports all of them
            assert _sample(_scrape(http), "podproxy_http_requests_total", labels) == sent
        text = _scrape(http)
        assert _sample(text, "podproxy_podman_invocations_total",
                       dict(subcommand="image exists", exit_code="1")) == sent
        lines = _lines(srv, "/v4.3.1/libpod/images/absent:x/exists")
        assert sorted(line["request_id"] for line in lines) == sorted("req-%d" % i for i in range(sent))
        assert all(line["status"] == 404 and line["podman_exit"] == 1 for line in lines)
        metrics_dir = _metrics_dir(srv)
        assert os.path.isdir(metrics_dir)
    finally:
        srv.stop()
    assert not os.path.exists(metrics_dir), "the temp metrics dir outlived the server"


def _lines(srv, target):
    out = []
    for line in srv.output().splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            if record["target"] == target:
                out.append(record)
    return out


def _metrics_dir(srv):
    """Where a worker keeps its metric files (they are mmapped)."""
    with open("/proc/%d/maps" % _a_worker(srv)) as f:
        files = [line.split()[-1] for line in f if line.rstrip().endswith(".db")]
    assert files, "no metric files mapped: not in multiprocess mode"
    return os.path.dirname(files[0])


def _a_worker(srv):
    out = subprocess.run(["pgrep", "-P", str(srv.proc.pid)], capture_output=True, text=True).stdout.split()
    return int(out[0])


def test_a_given_metrics_dir_is_wiped_at_start(store, tmp_path, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    for run in range(2):
        srv = start_podproxy(store)
        try:
            assert srv.http.request("GET", "/healthz").status == 200
            labels = dict(method="GET", route="/healthz", status="200")
            assert _settled(srv.http, "podproxy_http_requests_total", labels, 1) == 1, "run %d" % run
        finally:
            srv.stop()
    assert os.path.isdir(tmp_path)  # given, so kept


def test_plain_gunicorn_with_the_deploy_file(store):
    port = free_port()
    env = dict(os.environ, PODPROXY_BIND="127.0.0.1:%d" % port, PODPROXY_WORKERS="1",
               PODPROXY_PODMAN_OPTION=" ".join(store.options))
    srv = Server([sys.executable, "-m", "gunicorn", "-c", DEPLOY_CONF], HTTP(port=port), env=env)
    try:
        assert srv.http.request("GET", "/healthz").status == 200
        reply = srv.http.request("GET", "/v4.3.1/libpod/images/%s/json" % store.base_id)
        assert reply.status == 200 and reply.headers["server"].startswith("Libpod/")
    finally:
        srv.stop()
    assert "Worker exiting" in srv.output()


def test_request_line_and_header_limits(podproxy_server):
    http = podproxy_server.http
    too_long = http.request("GET", "/v4.3.1/libpod/images/%s/exists" % ("a" * 9000))
    assert too_long.status == 414 and b"Request Line is too large" in too_long.body
    many = http.request("GET", "/_ping", headers={"X-H%d" % i: "v" for i in range(150)})
    assert many.status == 431
    assert http.request("GET", "/_ping").status == 200


def _connection_sockets(pid: int) -> int:
    fd_dir = "/proc/%d/fd" % pid
    count = 0
    for fd in os.listdir(fd_dir):
        try:
            count += os.readlink(os.path.join(fd_dir, fd)).startswith("socket:")
        except OSError:
            pass
    return count


def test_keepalive_connections_are_shared_among_workers(store):
    """Connections made one after the other, each kept alive after its
    first request, end up about evenly on the two workers (without the
    fair-share rule one worker often took nearly all of them)."""
    import http.client

    srv = start_podproxy(store, workers=2, threads=16)
    try:
        workers = [int(p) for p in subprocess.run(["pgrep", "-P", str(srv.proc.pid)], capture_output=True,
                                                   text=True).stdout.split()]
        assert len(workers) == 2
        for attempt in range(3):
            before = [_connection_sockets(w) for w in workers]
            conns = []
            for _ in range(16):
                conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
                conn.request("GET", "/_ping")
                reply = conn.getresponse()
                reply.read()
                assert reply.status == 200
                conns.append(conn)
            held = [_connection_sockets(w) - b for w, b in zip(workers, before, strict=True)]
            for conn in conns:
                conn.close()
            assert sum(held) == 16
            assert max(held) - min(held) <= 4, "attempt %d: connections per worker %s" % (attempt, held)
            deadline = time.monotonic() + 10
            while [_connection_sockets(w) for w in workers] != before and time.monotonic() < deadline:
                time.sleep(0.05)
    finally:
        srv.stop()
