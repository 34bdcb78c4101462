"""Real nginx with deploy/nginx.conf in front of a real ``podproxy serve``:
TLS, image streams, the body limit, and podman's remote CLI through it.

The deploy file is used as written except for the addresses and paths a
test must choose (each replacement must match exactly once, so a changed
deploy file breaks the test rather than silently testing something else).
"""
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time

import pytest

from helpers import HTTP, Store, free_port, start_podproxy

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NGINX_CONF = os.path.join(ROOT, "deploy", "nginx.conf")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

pytestmark = pytest.mark.skipif(not os.path.exists(NGINX), reason="nginx not installed (apt-get install nginx-light)")

IMAGE = "localhost/podproxy/nginx:1"


def render(text: str, replacements: dict) -> str:
    for old, new in replacements.items():
        assert text.count(old) == 1, "deploy/nginx.conf no longer has exactly one %r" % old
        text = text.replace(old, new)
    return text


class Nginx:
    def __init__(self, workdir, upstream_sock, body_limit=None):
        self.dir = workdir
        self.tls_port, self.plain_port = free_port(), free_port()
        cert, key = os.path.join(workdir, "server.crt"), os.path.join(workdir, "server.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", cert], check=True, capture_output=True)
        self.cert = cert
        replacements = {
            "server unix:/run/podproxy/podproxy.sock;": "server unix:%s;" % upstream_sock,
            "listen 443 ssl;": "listen 127.0.0.1:%d ssl;" % self.tls_port,
            "listen 127.0.0.1:8081;": "listen 127.0.0.1:%d;" % self.plain_port,
            "/etc/podproxy/tls/server.crt;": cert + ";",
            "/etc/podproxy/tls/server.key;": key + ";",
        }
        if body_limit:
            replacements["client_max_body_size 4g;"] = "client_max_body_size %s;" % body_limit
        site = render(open(NGINX_CONF).read(), replacements)
        with open(os.path.join(workdir, "podproxy.conf"), "w") as f:
            f.write(site)
        temp = os.path.join(workdir, "temp")
        os.makedirs(temp)
        main = """
            user root;
            daemon off;
            worker_processes 1;
            pid {d}/nginx.pid;
            error_log {d}/error.log info;
            events {{ worker_connections 128; }}
            http {{
                access_log {d}/access.log;
                client_body_temp_path {t}/body;
                proxy_temp_path {t}/proxy;
                fastcgi_temp_path {t}/fastcgi;
                uwsgi_temp_path {t}/uwsgi;
                scgi_temp_path {t}/scgi;
                include {d}/podproxy.conf;
            }}
        """.format(d=workdir, t=temp)
        conf = os.path.join(workdir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(main)
        subprocess.run([NGINX, "-t", "-c", conf, "-p", workdir], check=True, capture_output=True)
        self.proc = subprocess.Popen([NGINX, "-c", conf, "-p", workdir], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        context = ssl.create_default_context(cafile=cert)
        self.tls = HTTP(port=self.tls_port, tls=context)
        self.plain = HTTP(port=self.plain_port)
        self.tls.wait_ready()

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


@pytest.fixture(scope="module")
def front():
    """A store, podproxy on a unix socket, nginx with TLS in front."""
    store = Store.create()
    store.image_id = store.make_image(IMAGE)
    workdir = tempfile.mkdtemp(prefix="podproxy-nginx-")
    sock = os.path.join(workdir, "podproxy.sock")
    proxy = start_podproxy(store, "--bind", "unix:" + sock, workers=2)
    nginx = None
    try:
        nginx = Nginx(workdir, sock)
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


def test_podman_remote_cli_through_nginx(front):
    store, _, nginx = front
    out = subprocess.run(["podman", "--url", "tcp://127.0.0.1:%d" % nginx.plain_port, "image", "ls",
                          "--format", "json"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    listed = json.loads(out.stdout)
    assert [i["Id"] for i in listed] == [store.image_id]
    assert IMAGE in listed[0]["Names"]


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
