"""Test helpers: an isolated podman store, test images, a raw HTTP client
(unix socket or TCP, request target sent exactly as written) and servers
(podproxy under gunicorn, podman's own service) on that store."""
from __future__ import annotations

import atexit
import http.client
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field

BUSYBOX = shutil.which("busybox") or "/bin/busybox"
# The podman every fixture runs: the store's commands, the oracle (``PODMAN
# system service``), podproxy's ``--podman`` and the remote CLI (``PODMAN
# --url``). PODPROXY_TEST_PODMAN=/path/to/podman runs the suite against
# another podman, e.g. the podman 5 wrapper that .ci/podman5.sh prints.
PODMAN = os.environ.get("PODPROXY_TEST_PODMAN") or "podman"
_FEATURES = []


def podman_features():
    """The versioned behaviours (``podproxy.engine.versions``) of PODMAN, for
    tests whose expected answer depends on the release."""
    if not _FEATURES:
        from podproxy.engine.versions import Features

        out = subprocess.run([PODMAN, "version", "--format", "{{.Client.Version}}"], capture_output=True,
                             timeout=60, check=True).stdout.decode().strip()
        _FEATURES.append(Features(out))
    return _FEATURES[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Store:
    """A podman image store of its own under ``path``: every test that
    touches images uses one, so the host's images are never involved."""

    path: str
    options: list = field(default_factory=list)

    @classmethod
    def create(cls, base: str | None = None) -> Store:
        path = tempfile.mkdtemp(prefix="podproxy-store-", dir=base)
        opts = [
            "--root=%s/root" % path,
            "--runroot=%s/run" % path,
            "--tmpdir=%s/tmp" % path,
            "--events-backend=file",
            "--cgroup-manager=cgroupfs",
        ]
        os.makedirs(path + "/tmp", exist_ok=True)
        return cls(path, opts)

    def argv(self, *args) -> list:
        return [PODMAN, *self.options, *args]

    def podman(self, *args, check=True, input=None) -> subprocess.CompletedProcess:
        proc = subprocess.run(self.argv(*args), input=input, capture_output=True, timeout=300)
        if check and proc.returncode != 0:
            raise AssertionError("podman %s failed (%d): %s" % (" ".join(args), proc.returncode, proc.stderr.decode()))
        return proc

    def out(self, *args) -> str:
        return self.podman(*args).stdout.decode()

    def image_ids(self) -> set:
        return {i.split(":", 1)[-1] for i in self.out("images", "-a", "-q", "--no-trunc").split()}

    def rootfs_tar(self, extra: dict | None = None) -> str:
        """A busybox root file system as a tar file; ``extra`` adds files
        {path: bytes} (different content -> a different image)."""
        fd, tar_path = tempfile.mkstemp(suffix=".tar", dir=self.path)
        os.close(fd)
        with tarfile.open(tar_path, "w") as tar:
            info = tarfile.TarInfo("bin")
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            tar.addfile(info)
            tar.add(BUSYBOX, arcname="bin/busybox")
            for name, data in (extra or {}).items():
                import io

                info = tarfile.TarInfo(name)
                info.size = len(data)
                info.mode = 0o644
                tar.addfile(info, io.BytesIO(data))
        return tar_path

    def make_image(self, ref: str, marker: str | None = None, changes=()) -> str:
        """Import a busybox image as ``ref``; returns its full ID."""
        tar = self.rootfs_tar({"marker": (marker or ref).encode()})
        args = ["import", "-q"]
        for c in changes:
            args.append("--change=" + c)
        out = self.out(*args, tar, ref).strip()
        os.unlink(tar)
        return out.split(":", 1)[-1]

    def create_container(self, image: str, name: str) -> str:
        return self.out("create", "--name", name, image, "/bin/busybox", "true").strip()

    def destroy(self):
        """Unmount what podman mounted below the store, then delete it.
        (Not ``podman system reset``: that also deletes the host's networks.)
        A podman a stopped server left to die of its parent-death signal
        can still mount the store's overlay dir while it shuts down: wait
        for those first, and check that nothing came back."""
        deadline = time.monotonic() + 15
        while processes(self.path) and time.monotonic() < deadline:
            time.sleep(0.1)
        for _ in range(5):
            # also below a chroot's bind mount of the store's parent (a
            # chrooted podman, .ci/podman5.sh): /CHROOT/tmp/podproxy-store-x/...
            with open("/proc/mounts") as f:
                mounts = [m for m in (line.split()[1] for line in f) if (m + "/").find(self.path + "/") >= 0]
            for mount in sorted(mounts, key=len, reverse=True):
                subprocess.run(["umount", "-l", mount], capture_output=True)
            shutil.rmtree(self.path, ignore_errors=True)
            if not os.path.exists(self.path):
                return
            time.sleep(0.2)


@dataclass
class Reply:
    status: int
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=300):
        super().__init__("d", timeout=timeout)
        self._path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


class HTTP:
    """A raw HTTP/1.1 client: the request target is sent as written."""

    def __init__(self, unix: str | None = None, port: int | None = None, host: str = "127.0.0.1", tls=None,
                 headers=None):
        self.unix, self.port, self.host, self.tls = unix, port, host, tls  # tls: an ssl.SSLContext
        self.headers = dict(headers or {})  # sent with every request (e.g. Authorization)

    def _conn(self, timeout=300):
        if self.unix:
            return _UnixConnection(self.unix, timeout)
        if self.tls is not None:
            return http.client.HTTPSConnection(self.host, self.port, timeout=timeout, context=self.tls)
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(self, method: str, target: str, body=None, headers=None, timeout=300) -> Reply:
        conn = self._conn(timeout)
        try:
            conn.putrequest(method, target, skip_accept_encoding=True)
            hdrs = dict(self.headers, **(headers or {}))
            if body is not None and not any(k.lower() in ("content-length", "transfer-encoding") for k in hdrs):
                if isinstance(body, (bytes, bytearray)):
                    hdrs["Content-Length"] = str(len(body))
                else:
                    hdrs["Transfer-Encoding"] = "chunked"
            for k, v in hdrs.items():
                conn.putheader(k, v)
            conn.endheaders()
            if body is not None:
                if isinstance(body, (bytes, bytearray)):
                    conn.send(body)
                else:
                    for chunk in body:
                        conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    conn.send(b"0\r\n\r\n")
            resp = conn.getresponse()
            data = resp.read()
            return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
        finally:
            conn.close()

    def wait_ready(self, target="/_ping", timeout=30.0, ok=(200,)):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                if self.request("GET", target, timeout=5).status in ok:
                    return
            except OSError as e:
                last = e
            time.sleep(0.1)
        raise RuntimeError("server did not become ready: %s" % last)


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


class Server:
    """A background process serving HTTP; stopped (with its process group)
    by ``stop``."""

    def __init__(self, argv, http: HTTP, env=None, log_path=None, ready=("/_ping", (200,))):
        if log_path is None:
            log_path = tempfile.mktemp(prefix="podproxy-server-", suffix=".log")
            atexit.register(_remove, log_path)  # kept to the end: tests read it after stop()
        self.log_path = log_path
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True)
        self.http = http
        try:
            http.wait_ready(ready[0], ok=ready[1])
        except Exception:
            self.stop()
            raise RuntimeError("server %s failed to start:\n%s" % (argv, open(self.log_path).read()))

    def stop(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait()
        self.log.close()

    def output(self) -> str:
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")


def start_podproxy(store: Store, *extra, workers=1, threads=8, env=None, headers=None) -> Server:
    """``env`` adds variables (e.g. TMPDIR, to watch podman's temp files);
    ``headers`` go with every request of ``server.http`` (Authorization)."""
    port = free_port()
    argv = [sys.executable, "-m", "podproxy", "serve", "--bind", "127.0.0.1:%d" % port,
            "--workers", str(workers), "--threads", str(threads), "--podman=" + PODMAN]
    argv += ["--podman-option=%s" % o for o in store.options]
    argv += list(extra)
    env = {**os.environ, **(env or {})}
    env.pop("PODPROXY_BIND", None)
    server = Server(argv, HTTP(port=port, headers=headers), env=env)
    server.port = port
    server.url = "tcp://127.0.0.1:%d" % port
    return server


def start_reference(store: Store, tcp: bool = False, env=None) -> Server:
    """podman's own API service on the same store: the oracle (on a unix
    socket, or with ``tcp`` on a loopback port, ``.port`` set); ``env``
    adds variables (e.g. HOME, for a registries.conf of the test's own)."""
    env = {**os.environ, **env} if env else None
    if tcp:
        port = free_port()
        server = Server(store.argv("system", "service", "--time=0", "tcp://127.0.0.1:%d" % port), HTTP(port=port),
                        env=env)
        server.port, server.url = port, "tcp://127.0.0.1:%d" % port
        return server
    sock = os.path.join(store.path, "ref.sock")
    argv = store.argv("system", "service", "--time=0", "unix://" + sock)
    server = Server(argv, HTTP(unix=sock), env=env)
    server.url = "unix://" + sock
    return server


def metric(text: str, name: str, **labels) -> float:
    """One sample's value in Prometheus' text format (0 if absent)."""
    import re

    want = ",".join('%s="%s"' % kv for kv in sorted(labels.items()))
    for line in text.splitlines():
        m = re.match(r"(\w+)(?:\{(.*)\})? (\S+)$", line)
        if m and m.group(1) == name and ",".join(sorted((m.group(2) or "").split(","))) == want:
            return float(m.group(3))
    return 0.0


def tar_members(data: bytes) -> list:
    """The member names of a tar archive, sorted."""
    import io

    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return sorted(m.name.rstrip("/") for m in tar.getmembers())


def tar_json(data: bytes, member: str):
    """A JSON member (``manifest.json``, ``index.json``) of a tar archive."""
    import io

    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return json.load(tar.extractfile(member))


def random_rootfs(path: str, size: int) -> str:
    """A rootfs tar holding ``size`` bytes of random (incompressible) data."""
    with tarfile.open(path, "w") as tar:
        data_path = path + ".data"
        with open(data_path, "wb") as f:
            left = size
            while left:
                n = min(left, 1 << 20)
                f.write(os.urandom(n))
                left -= n
        tar.add(data_path, arcname="random.bin")
        os.unlink(data_path)
    return path


def process_table():
    """(pid, parent pid, state letter, command line) of every process that can still be read."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry, "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        yield int(entry), int(fields[1]), fields[0].decode(), cmd


def children(pid: int) -> list:
    """(pid, state letter) of the children of ``pid``."""
    return [(child, state) for child, parent, state, _ in process_table() if parent == pid]


def processes(marker: str, argv0: str = "podman") -> list:
    """Command lines of live processes whose argv[0] ends with ``argv0``
    and that mention ``marker`` (a store path, a fake podman's path): the
    children a server left behind. podman's own service is not counted."""
    return [cmd for _, _, state, cmd in process_table()
            if marker in cmd and cmd.split(" ", 1)[0].endswith(argv0) and " system service" not in cmd
            and state != "Z"]


# bcrypt of REGISTRY_PASSWORD, for the registry's htpasswd file
REGISTRY_USER = "podproxy"
REGISTRY_PASSWORD = "podproxy-secret"
_REGISTRY_HTPASSWD = "$2b$06$Bglmq.44HoM0dKy3LnFKKOWiCd5qLb1a57V7eMIE4BMmkvahnVlHG"


def start_registry(base: str, auth: bool = False) -> Server:
    """Debian's docker-registry (distribution) on a free loopback port,
    plain http, storage in ``base``; ``auth`` requires REGISTRY_USER /
    REGISTRY_PASSWORD (htpasswd). ``.address`` is HOST:PORT."""
    binary = shutil.which("docker-registry")
    if binary is None:
        raise RuntimeError("docker-registry is not installed: apt-get install -y docker-registry")
    port = free_port()
    os.makedirs(base, exist_ok=True)
    config = ["version: 0.1", "log:", "  level: error", "storage:", "  filesystem:",
              "    rootdirectory: %s/data" % base, "  delete:", "    enabled: true", "http:",
              "  addr: 127.0.0.1:%d" % port]
    if auth:
        with open(os.path.join(base, "htpasswd"), "w") as f:
            f.write("%s:%s\n" % (REGISTRY_USER, _REGISTRY_HTPASSWD))
        config += ["auth:", "  htpasswd:", "    realm: podproxy-tests", "    path: %s/htpasswd" % base]
    with open(os.path.join(base, "config.yml"), "w") as f:
        f.write("\n".join(config) + "\n")
    server = Server([binary, "serve", os.path.join(base, "config.yml")], HTTP(port=port),
                    log_path=os.path.join(base, "registry.log"), ready=("/v2/", (200, 401)))
    server.address = "127.0.0.1:%d" % port
    return server


def wait_until(predicate, timeout: float, step: float = 0.05) -> float:
    """Seconds until ``predicate()`` held; raises AssertionError after ``timeout``."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise AssertionError("still not true after %gs: %s" % (timeout, predicate))
        time.sleep(step)
    return time.monotonic() - start


def context_tar(files: dict, mode: str = "w") -> bytes:
    """A build context: a tar (``mode``, e.g. "w:gz") of ``files`` (name -> bytes)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()
