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
    command = [sys.executable, "-m", "podproxy", *argv[1:], "--workers", "1"]
    command += ["--podman-option=%s" % o for o in store.options]
    server = Server(["systemd-socket-activate", "-l", sock, *command], HTTP(unix=sock))
    try:
        reply = server.http.request("GET", "/v4.3.1/libpod/images/%s/exists" % store.base_id)
        assert reply.status == 204
        assert server.http.request("GET", "/readyz").status == 200
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
    assert "podproxy/gunicorn_conf.py" in names and "podproxy/wsgi.py" in names
    from podproxy import server

    assert os.path.dirname(server.CONFIG_FILE) == os.path.dirname(server.__file__)
