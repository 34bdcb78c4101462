"""The deploy files: systemd accepts the units, their ExecStart is a valid
``podproxy serve`` command line, gunicorn serves on a socket handed over
the way systemd does (LISTEN_FDS); the Containerfile's command and
settings parse; a non-editable install carries the gunicorn config."""
import configparser
import os
import shlex
import shutil
import subprocess
import sys

import pytest
from helpers import HTTP, Server

from podproxy.cli import build_parser, settings_from_args

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SERVICE = os.path.join(ROOT, "deploy", "podproxy.service")
SOCKET = os.path.join(ROOT, "deploy", "podproxy.socket")
ROOTLESS = os.path.join(ROOT, "deploy", "podproxy-rootless.conf")
CONTAINERFILE = os.path.join(ROOT, "deploy", "Containerfile")
NGINX = os.path.join(ROOT, "deploy", "nginx.conf")
README = os.path.join(ROOT, "README.md")
TOKEN_FILE = "/etc/podproxy/tokens"  # the documented path the operator fills


def unit(path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, comment_prefixes=("#", ";"))
    parser.optionxform = str
    parser.read(path)
    return parser


def exec_start() -> list:
    return shlex.split(unit(SERVICE)["Service"]["ExecStart"])


def test_exec_start_is_a_valid_serve_command():
    argv = exec_start()
    assert os.path.basename(argv[0]) == "podproxy" and argv[1] == "serve"
    settings = settings_from_args(build_parser().parse_args(argv[1:]), environ={})
    listen = unit(SOCKET)["Socket"]["ListenStream"]
    assert settings.bind == ["unix:" + listen], "--bind and the socket unit's ListenStream differ"
    # systemd waits longer than podproxy's graceful shutdown before it kills
    assert float(unit(SERVICE)["Service"]["TimeoutStopSec"]) > settings.graceful_timeout
    assert settings.log_format == "json"


def test_nginx_body_limit_is_podproxys():
    """deploy/nginx.conf's client_max_body_size = the unit's and the
    container's --max-body-size."""
    import json
    import re

    from podproxy.settings import parse_size

    nginx = re.findall(r"^\s*client_max_body_size\s+(\S+);", open(NGINX).read(), re.M)
    assert len(nginx) == 1
    unit_settings = settings_from_args(build_parser().parse_args(exec_start()[1:]), environ={})
    container_cmd = json.loads(dict(containerfile())["CMD"])
    container_settings = settings_from_args(build_parser().parse_args(container_cmd[1:]), environ={})
    assert parse_size(nginx[0]) == unit_settings.max_body_size == container_settings.max_body_size > 0


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed (apt-get install systemd)")
def test_systemd_analyze_verify(tmp_path):
    """As written, but with ExecStart's binary pointing at this checkout's
    entry point (verify insists that the binary exists)."""
    binary = tmp_path / "bin" / "podproxy"
    binary.parent.mkdir()
    binary.write_text("#!/bin/sh\nexec %s -m podproxy \"$@\"\n" % sys.executable)
    binary.chmod(0o755)
    text = open(SERVICE).read()
    assert text.count(exec_start()[0]) == 1
    (tmp_path / "podproxy.service").write_text(text.replace(exec_start()[0], str(binary)))
    shutil.copy(SOCKET, tmp_path / "podproxy.socket")
    proc = subprocess.run(["systemd-analyze", "verify", "--man=no", str(tmp_path / "podproxy.socket"),
                           str(tmp_path / "podproxy.service")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout + proc.stderr == "", proc.stdout + proc.stderr
    # the rootless drop-in on top of the service
    dropin = tmp_path / "podproxy.service.d"
    dropin.mkdir()
    shutil.copy(ROOTLESS, dropin / "rootless.conf")
    combined = tmp_path / "podproxy.service"
    combined.write_text(combined.read_text() + "\n" + open(ROOTLESS).read())
    proc = subprocess.run(["systemd-analyze", "verify", "--man=no", str(tmp_path / "podproxy.socket"),
                           str(combined)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout + proc.stderr == "", proc.stdout + proc.stderr


@pytest.mark.skipif(shutil.which("systemd-socket-activate") is None, reason="systemd-socket-activate not installed")
def test_socket_activation_like_systemd(store, tmp_path):
    """The unit's command line, started with a socket bound by someone else
    (LISTEN_FDS/LISTEN_PID, what systemd does): gunicorn serves on it and
    does not bind the --bind address itself."""
    sock = str(tmp_path / "activated.sock")
    argv = exec_start()
    bound_path = argv[argv.index("--bind") + 1][len("unix:"):]
    existed = os.path.exists(bound_path)
    tokens = tmp_path / "tokens"
    tokens.write_text("admin activated-token-0123456789abcdef\n")
    argv[argv.index("--token-file") + 1] = str(tokens)
    command = [sys.executable, "-m", "podproxy", *argv[1:], "--workers", "1"]
    command += ["--podman-option=%s" % o for o in store.options]
    auth = {"Authorization": "Bearer activated-token-0123456789abcdef"}
    server = Server(["systemd-socket-activate", "-l", sock, *command], HTTP(unix=sock, headers=auth))
    try:
        reply = server.http.request("GET", "/v4.3.1/libpod/images/%s/exists" % store.base_id)
        assert reply.status == 204
        assert server.http.request("GET", "/readyz").status == 200
        assert HTTP(unix=sock).request("GET", "/readyz").status == 401  # the unit's tokens hold
    finally:
        server.stop()
    assert os.path.exists(bound_path) == existed, "gunicorn bound --bind instead of using systemd's socket"


def containerfile() -> list:
    """(instruction, argument) pairs, continuation lines joined."""
    text = open(CONTAINERFILE).read().replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            word, _, rest = line.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_containerfile_command_and_settings_parse():
    import json

    steps = containerfile()
    assert steps[0][0] == "FROM" and "podman" in steps[0][1]
    cmd = json.loads(dict(steps)["CMD"])
    assert cmd[:2] == ["podproxy", "serve"]
    env = dict(item.split("=", 1) for item in shlex.split(dict(steps)["ENV"]))
    settings = settings_from_args(build_parser().parse_args(cmd[1:]), environ=env)
    assert settings.bind == ["unix:/run/podproxy/podproxy.sock"] and settings.log_format == "json"
    socket_dir = os.path.dirname(settings.bind[0][len("unix:"):])
    assert socket_dir in json.loads(dict(steps)["VOLUME"])
    assert settings.bind[0][len("unix:"):] in dict(steps)["HEALTHCHECK"]
    for word, rest in steps:
        if word == "COPY":
            for source in shlex.split(rest)[:-1]:
                assert os.path.exists(os.path.join(ROOT, source)), source


def test_a_wheel_carries_the_gunicorn_config(tmp_path):
    """The config is found inside the package, not in deploy/, so a
    non-editable install has it."""
    import zipfile

    src = tmp_path / "src"  # a copy: an in-tree build would leave build/ and *.egg-info in the checkout
    src.mkdir()
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(os.path.join(ROOT, name), src / name)
    shutil.copytree(os.path.join(ROOT, "podproxy"), src / "podproxy",
                    ignore=shutil.ignore_patterns("__pycache__"))
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                           "-w", str(tmp_path), str(src)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    wheel = next(tmp_path.glob("podproxy-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "podproxy/serving/gunicorn_conf.py" in names and "podproxy/serving/wsgi.py" in names
    from podproxy.serving import server

    assert os.path.dirname(server.CONFIG_FILE) == os.path.dirname(server.__file__)


def _flag(argv, name):
    assert argv.count(name) == 1, "%s not given exactly once in %s" % (name, argv)
    return argv[argv.index(name) + 1]


def _readme_section(title: str) -> str:
    text = open(README).read()
    start = text.index("\n## %s\n" % title)
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else None]


def test_the_unit_and_the_container_need_tokens():
    """Issue 11 point 1: as installed, podproxy authenticates every request:
    the unit and the container read the documented token file, and the
    README's Security and Production sections name that path."""
    assert _flag(exec_start(), "--token-file") == TOKEN_FILE
    import json

    assert _flag(json.loads(dict(containerfile())["CMD"]), "--token-file") == TOKEN_FILE
    assert TOKEN_FILE in _readme_section("Security") and TOKEN_FILE in _readme_section("Production")


@pytest.mark.parametrize("content, message", [
    (None, "cannot read the token file"),
    ("", "has no tokens"),
    ("# admin <fill me in>\n\n", "has no tokens"),
])
def test_the_unit_refuses_to_start_without_tokens(tmp_path, content, message):
    """The unit's own command line, with the token file missing, empty or
    only comments: podproxy exits at once with a clear message and binds
    nothing."""
    argv = exec_start()
    tokens = tmp_path / "tokens"
    if content is not None:
        tokens.write_text(content)
    sock = tmp_path / "podproxy.sock"
    argv[argv.index("--token-file") + 1] = str(tokens)
    argv[argv.index("--bind") + 1] = "unix:%s" % sock
    proc = subprocess.run([sys.executable, "-m", "podproxy", *argv[1:]], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and str(tokens) in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not sock.exists()


def test_unit_and_socket_unit_make_the_same_socket():
    """podproxy.service started alone makes the socket podproxy.socket would:
    same path, mode and group (issue 11 point 2); nginx (the socket's group)
    is trusted to name the client (point 11)."""
    from podproxy.security import unixsock

    settings = settings_from_args(build_parser().parse_args(exec_start()[1:]), environ={})
    socket_unit = unit(SOCKET)["Socket"]
    assert settings.bind == ["unix:" + socket_unit["ListenStream"]]
    assert unixsock.mode_for(settings) == int(socket_unit["SocketMode"], 8) == 0o660
    assert settings.socket_group == socket_unit["SocketGroup"] == "www-data"
    assert settings.forwarded_allow_ips == ["unix"]


def test_nginx_listens_where_the_readme_says():
    """Issue 11 point 1: nginx listens on 443 with TLS only; the plain
    loopback listener is commented out; the README's nginx section says so
    and its steps set up tokens."""
    import re

    listens = re.findall(r"^\s*listen\s+([^;]+);", open(NGINX).read(), re.M)
    assert listens == ["443 ssl"]
    production = _readme_section("Production")
    nginx_part = production[production.index("### nginx"):]
    assert "443" in nginx_part and "8081" in nginx_part
    assert "openssl rand -hex 32" in production and "install -m 0600 /dev/null %s" % TOKEN_FILE in production
