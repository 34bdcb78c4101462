"""Real nginx with deploy/nginx.conf in front of a real ``podproxy serve``
started as deploy/podproxy.service starts it (tokens, the client named by
nginx): TLS, tokens, image streams, the body limit, /metrics for the host
only, the failure brake per client, and podman's remote CLI through the
optional plain listener (in front of a podproxy without tokens).

"Another host" is 127.0.0.2: nginx allows /metrics to 127.0.0.1 and ::1
only, and sees 127.0.0.2 as a different client address.

The deploy file is used as written except for the addresses and paths a
test must choose (each replacement must match exactly once, so a changed
deploy file breaks the test rather than silently testing something else).
"""
import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time

import pytest
from helpers import HTTP, Store, free_port, processes, start_podproxy

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NGINX_CONF = os.path.join(ROOT, "deploy", "nginx.conf")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

pytestmark = pytest.mark.skipif(not os.path.exists(NGINX), reason="nginx not installed (apt-get install nginx-light)")

IMAGE = "localhost/podproxy/nginx:1"
TOKEN = "nginx-front-token-0123456789abcdef"
AUTH = {"Authorization": "Bearer " + TOKEN}
SHIPPED_FLAGS = ("--forwarded-allow-ips", "unix")  # as deploy/podproxy.service, with a token file of the test's


def render(text: str, replacements: dict) -> str:
    for old, new in replacements.items():
        assert text.count(old) == 1, "deploy/nginx.conf no longer has exactly one %r" % old
        text = text.replace(old, new)
    return text


class Nginx:
    def __init__(self, workdir, upstream_sock, body_limit=None, client_ca=None, plain=False, headers=None):
        self.dir = workdir
        self.tls_port, self.plain_port = free_port(), (free_port() if plain else None)
        cert, key = os.path.join(workdir, "server.crt"), os.path.join(workdir, "server.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", cert], check=True, capture_output=True)
        self.cert = cert
        replacements = {
            "server unix:/run/podproxy/podproxy.sock;": "server unix:%s;" % upstream_sock,
            "listen 443 ssl;": "listen 127.0.0.1:%d ssl;" % self.tls_port,
            "/etc/podproxy/tls/server.crt;": cert + ";",
            "/etc/podproxy/tls/server.key;": key + ";",
        }
        if plain:  # the optional plain loopback listener, switched on
            replacements["# listen 127.0.0.1:8081;"] = "listen 127.0.0.1:%d;" % self.plain_port
        if body_limit:
            replacements["client_max_body_size 4g;"] = "client_max_body_size %s;" % body_limit
        if client_ca:  # the optional mTLS block, switched on
            replacements["# ssl_client_certificate /etc/podproxy/tls/clients-ca.crt;"] = \
                "ssl_client_certificate %s;" % client_ca
            replacements["# ssl_verify_client      on;"] = "ssl_verify_client      on;"
            replacements["# ssl_verify_depth       2;"] = "ssl_verify_depth       2;"
        site = render(open(NGINX_CONF).read(), replacements)
        with open(os.path.join(workdir, "podproxy.conf"), "w") as f:
            f.write(site)
        temp = os.path.join(workdir, "temp")
        os.makedirs(temp)
        main = f"""
            user root;
            daemon off;
            worker_processes 1;
            pid {workdir}/nginx.pid;
            error_log {workdir}/error.log info;
            events {{ worker_connections 128; }}
            http {{
                access_log {workdir}/access.log;
                client_body_temp_path {temp}/body;
                proxy_temp_path {temp}/proxy;
                fastcgi_temp_path {temp}/fastcgi;
                uwsgi_temp_path {temp}/uwsgi;
                scgi_temp_path {temp}/scgi;
                include {workdir}/podproxy.conf;
            }}
        """
        conf = os.path.join(workdir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(main)
        subprocess.run([NGINX, "-t", "-c", conf, "-p", workdir], check=True, capture_output=True)
        self.proc = subprocess.Popen([NGINX, "-c", conf, "-p", workdir], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        context = ssl.create_default_context(cafile=cert)
        self.tls = HTTP(port=self.tls_port, tls=context, headers=headers)
        self.plain = HTTP(port=self.plain_port) if plain else None
        # with mTLS on, a client without a certificate is answered 400
        self.tls.wait_ready(ok=(400,) if client_ca else (200,))

    def temp_files(self) -> list:
        out = []
        for base, _, files in os.walk(os.path.join(self.dir, "temp")):
            out += [os.path.join(base, f) for f in files]
        return out

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


LIMIT = "300m"  # the test's client_max_body_size and --max-body-size: over 200 MB, under what a test can send


@pytest.fixture(scope="module")
def front():
    """A store, podproxy on a unix socket with tokens (as the shipped unit),
    nginx with TLS in front."""
    store = Store.create()
    store.image_id = store.make_image(IMAGE)
    workdir = tempfile.mkdtemp(prefix="podproxy-nginx-")
    sock = os.path.join(workdir, "podproxy.sock")
    tokens = os.path.join(workdir, "tokens")
    with open(tokens, "w") as f:
        f.write("admin %s\n" % TOKEN)
    proxy = start_podproxy(store, "--bind", "unix:" + sock, "--max-body-size", LIMIT, "--token-file", tokens,
                           *SHIPPED_FLAGS, workers=2, headers=AUTH)
    nginx = None
    try:
        nginx = Nginx(workdir, sock, body_limit=LIMIT, headers=AUTH)
        nginx.upstream = sock
        yield store, proxy, nginx
    finally:
        if nginx:
            nginx.stop()
        proxy.stop()
        shutil.rmtree(workdir, ignore_errors=True)
        store.destroy()


def test_ping_through_tls(front):
    _, _, nginx = front
    reply = nginx.tls.request("GET", "/_ping")
    assert reply.status == 200 and reply.body == b"OK"
    assert reply.headers["libpod-api-version"] == "4.3.1"
    assert reply.headers["server"] == "Libpod/4.3.1 (linux)"  # podman's, passed through


def test_plain_http_on_the_tls_port_is_refused(front):
    _, _, nginx = front
    reply = HTTP(port=nginx.tls_port).request("GET", "/_ping")
    assert reply.status == 400  # nginx: "The plain HTTP request was sent to HTTPS port"


def test_inspect_through_tls_is_podproxys_answer(front):
    store, proxy, nginx = front
    target = "/v4.3.1/libpod/images/%s/json" % IMAGE.replace("/", "%2F")
    through, direct = nginx.tls.request("GET", target), proxy.http.request("GET", target)
    assert through.status == direct.status == 200
    assert through.json() == direct.json()
    assert through.json()["Id"] == store.image_id
    missing = nginx.tls.request("GET", "/v4.3.1/libpod/images/no%2Fsuch:1/json")
    assert missing.status == 404 and missing.json()["message"].endswith("no/such:1: image not known")


@pytest.fixture(scope="module")
def tokenless_front():
    """podproxy without tokens on its own socket, nginx with the optional
    plain loopback listener on (podman's remote CLI cannot send a token)."""
    store = Store.create()
    store.image_id = store.make_image(IMAGE)
    workdir = tempfile.mkdtemp(prefix="podproxy-nginx-plain-")
    sock = os.path.join(workdir, "podproxy.sock")
    proxy = start_podproxy(store, "--bind", "unix:" + sock, workers=1)
    nginx = None
    try:
        nginx = Nginx(workdir, sock, plain=True)
        yield store, proxy, nginx
    finally:
        if nginx:
            nginx.stop()
        proxy.stop()
        shutil.rmtree(workdir, ignore_errors=True)
        store.destroy()


def test_podman_remote_cli_through_nginx(tokenless_front):
    store, _, nginx = tokenless_front
    out = subprocess.run(["podman", "--url", "tcp://127.0.0.1:%d" % nginx.plain_port, "image", "ls",
                          "--format", "json"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    listed = {i["Id"]: i for i in json.loads(out.stdout)}
    assert IMAGE in listed[store.image_id]["Names"]
    assert set(listed) == store.image_ids()


def test_over_limit_upload_is_413_before_podproxy_sees_it(front):
    """A declared body over client_max_body_size: nginx answers 413 in
    podman's error shape from the headers alone; nothing reaches podman."""
    store, proxy, nginx = front
    before = store.image_ids()
    raw = socket.create_connection(("127.0.0.1", nginx.tls_port))
    conn = ssl.create_default_context(cafile=nginx.cert).wrap_socket(raw, server_hostname="127.0.0.1")
    try:
        conn.sendall(b"POST /v4.3.1/libpod/images/load HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-tar\r\n"
                     b"Content-Length: %d\r\n\r\n" % (5 << 30))
        conn.sendall(b"\0" * 65536)
        data = b""
        while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        conn.close()
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413")
    assert json.loads(body) == {"cause": "request body too large",
                                "message": "request body too large: over nginx client_max_body_size",
                                "response": 413}
    assert store.image_ids() == before
    time.sleep(0.5)
    assert "/libpod/images/load" not in proxy.output()
    assert nginx.temp_files() == []


def test_metrics_through_nginx_from_loopback(front):
    _, _, nginx = front
    reply = nginx.tls.request("GET", "/metrics")
    assert reply.status == 200 and b"podproxy_http_requests_total" in reply.body


def _tls_connection(nginx, source=None):
    return http.client.HTTPSConnection("127.0.0.1", nginx.tls_port, timeout=300,
                                       context=ssl.create_default_context(cafile=nginx.cert), source_address=source)


def _upload(nginx, path):
    """POST .../images/load with the file as a chunked body (as podman's
    remote CLI sends it), streamed from disk."""
    def chunks():
        with open(path, "rb") as f:
            while True:
                block = f.read(1 << 20)
                if not block:
                    return
                yield block

    conn = _tls_connection(nginx)
    try:
        conn.request("POST", "/v4.3.1/libpod/images/load", body=chunks(), encode_chunked=True,
                     headers={"Content-Type": "application/x-tar", "Transfer-Encoding": "chunked", **AUTH})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def _download(nginx, target, path) -> int:
    conn = _tls_connection(nginx)
    try:
        conn.request("GET", target, headers=AUTH)
        resp = conn.getresponse()
        assert resp.status == 200, resp.read()[:500]
        size = 0
        with open(path, "wb") as f:
            while True:
                block = resp.read(1 << 20)
                if not block:
                    break
                size += len(block)
                f.write(block)
        return size
    finally:
        conn.close()


def test_200mb_load_and_export_round_trip_through_tls(front, big_store, tmp_path):
    """A 200 MB image goes in (load) and out (export) through nginx and TLS,
    streamed both ways, and keeps its image ID."""
    from conftest import BIG

    store, _, nginx = front
    archive = str(tmp_path / "in.tar")
    big_store.podman("save", "--format", "docker-archive", "-o", archive, BIG)
    start = time.monotonic()
    status, body = _upload(nginx, archive)
    load_s = time.monotonic() - start
    assert status == 200, body
    assert json.loads(body)["Names"] == [BIG]
    assert store.out("image", "inspect", "--format", "{{.Id}}", BIG).strip() == big_store.big_id
    exported = str(tmp_path / "out.tar")
    start = time.monotonic()
    size = _download(nginx, "/v4.3.1/libpod/images/%s/get?format=docker-archive" % BIG.replace("/", "%2F"),
                     exported)
    export_s = time.monotonic() - start
    assert size > 200 << 20
    fresh = Store.create()
    try:
        fresh.podman("load", "-i", exported)
        assert fresh.out("image", "inspect", "--format", "{{.Id}}", BIG).strip() == big_store.big_id
    finally:
        fresh.destroy()
    print("200 MB through nginx+TLS: load %.1f s, export %.1f s" % (load_s, export_s))
    assert nginx.temp_files() == []  # streamed: nginx buffered nothing to disk


def test_chunked_upload_over_the_limit_is_413_and_stores_nothing(front, tmp_path):
    """No Content-Length to judge by: the body is counted as it streams
    (nginx and podproxy have the same limit) and cut at the limit."""
    store, proxy, nginx = front
    before = store.image_ids()
    big = tmp_path / "over.tar"
    with open(big, "wb") as f:
        f.truncate(330 << 20)  # over 300m; zeros are an empty tar to podman, if it ever got them whole
    try:
        status, body = _upload(nginx, str(big))
    except (ConnectionError, ssl.SSLError, http.client.HTTPException):
        status, body = None, b""  # the server may drop the connection while we are still sending
    assert status in (413, None), (status, body)
    if status == 413:
        assert json.loads(body)["response"] == 413
    time.sleep(1)
    assert store.image_ids() == before
    assert nginx.temp_files() == []
    assert processes(store.path) == []  # podman's load of the cut body has ended


def _openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def test_optional_mtls_block(front, tmp_path):
    """With the commented client-certificate block switched on, only
    clients with a certificate from the CA get through."""
    _, _, plain_nginx = front
    d = str(tmp_path)
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=clients-ca",
             "-keyout", d + "/ca.key", "-out", d + "/ca.crt")
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=client", "-keyout", d + "/client.key",
             "-out", d + "/client.csr")
    _openssl("x509", "-req", "-in", d + "/client.csr", "-CA", d + "/ca.crt", "-CAkey", d + "/ca.key",
             "-CAcreateserial", "-days", "2", "-out", d + "/client.crt")
    workdir = tempfile.mkdtemp(prefix="podproxy-nginx-mtls-")
    nginx = None
    try:
        nginx = Nginx(workdir, plain_nginx.upstream, client_ca=d + "/ca.crt")
        without = nginx.tls.request("GET", "/_ping")
        assert without.status == 400 and b"No required SSL certificate was sent" in without.body
        context = ssl.create_default_context(cafile=nginx.cert)
        context.load_cert_chain(d + "/client.crt", d + "/client.key")
        with_cert = HTTP(port=nginx.tls_port, tls=context, headers=AUTH).request("GET", "/_ping")
        assert with_cert.status == 200 and with_cert.body == b"OK"
    finally:
        if nginx is not None:
            nginx.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def _from(nginx, source, target, headers=None):
    """GET ``target`` (sent as written) over TLS from the local address ``source``."""
    conn = _tls_connection(nginx, source=(source, 0))
    try:
        conn.putrequest("GET", target, skip_host=False, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def test_the_shipped_front_needs_a_token(front):
    """Issue 11 point 1: what deploy/ sets up answers nobody without a token."""
    _, _, nginx = front
    target = "/v4.3.1/libpod/images/json"
    assert _from(nginx, "127.0.0.2", target)[0] == 401
    assert _from(nginx, "127.0.0.2", target, {"Authorization": "Bearer not-the-token-0123456789"})[0] == 401
    status, body = _from(nginx, "127.0.0.2", target, AUTH)
    assert status == 200 and IMAGE in body.decode()


METRICS_SPELLINGS = ("/metrics", "/metrics/", "//metrics", "/metrics%2F", "/metrics%2f", "/%6Detrics",
                     "///metrics/", "/metrics?x=1")


@pytest.mark.parametrize("target", METRICS_SPELLINGS)
def test_metrics_is_for_this_host_only_however_spelled(front, target):
    """Issue 11 point 12: the host-only rule was an exact location, and
    podproxy serves /metrics under several spellings: each of them is 403
    from another address, and the metrics from this host."""
    _, _, nginx = front
    status, body = _from(nginx, "127.0.0.2", target, AUTH)
    assert status == 403 and b"podproxy_http" not in body, (status, body[:200])
    assert json.loads(body)["response"] == 403
    status, body = _from(nginx, "127.0.0.1", target, AUTH)
    assert status == 200 and b"podproxy_http_requests_total" in body


def test_failure_brake_counts_per_client_behind_nginx(front):
    """Issue 11 point 11: 25 bad tokens from one client brake that client
    (429), not the others: every client reaches podproxy from nginx on the
    unix socket, and podproxy (--forwarded-allow-ips unix) counts per
    X-Forwarded-For address. A right token passes even from the braked one."""
    _, proxy, nginx = front
    bad = {"Authorization": "Bearer guessing-0123456789abcdef"}
    statuses = [_from(nginx, "127.0.0.3", "/_ping", bad)[0] for _ in range(25)]
    assert set(statuses) == {401, 429} and statuses[:10] == [401] * 10, statuses
    for _ in range(6):  # both workers
        assert _from(nginx, "127.0.0.1", "/_ping", AUTH) == (200, b"OK")
        assert _from(nginx, "127.0.0.3", "/_ping", AUTH) == (200, b"OK")
    for _ in range(4):  # another client's mistakes are its own 401s, not the guesser's brake
        status, body = _from(nginx, "127.0.0.1", "/_ping", bad)
        assert status == 401, body
    assert "authentication failed from 127.0.0.3" in proxy.output()
    assert "from unix" not in proxy.output()
