"""podproxy's settings: one object, filled from defaults, ``PODPROXY_*``
environment variables and ``podproxy serve`` flags, in that order.

Each setting is declared once in ``OPTIONS``; the command line (cli.py) and
the environment reader are both built from that table, so a flag and its
variable can never disagree.
"""
from __future__ import annotations

import ipaddress
import os
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from .security.unixsock import parse_mode

# members a build context may hold (each costs an inode, and tarfile keeps one TarInfo per member in memory)
MAX_CONTEXT_MEMBERS = 200_000


def parse_size(text: str) -> int:
    """``4G``, ``512M``, ``100k``, ``1048576`` -> bytes. ``0`` means no limit."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)(i?[bB])?\s*", str(text))
    if not m:
        raise ValueError("not a size: %r (use e.g. 512M, 4G)" % text)
    scale = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}[m.group(2).lower()]
    return int(float(m.group(1)) * scale)


def parse_bool(text: str) -> bool:
    value = str(text).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ValueError("not a boolean: %r" % text)


def parse_log_format(text: str) -> str:
    value = str(text).strip().lower()
    if value not in ("text", "json"):
        raise ValueError("not a log format: %r (use text or json)" % text)
    return value


def parse_trusted(text: str) -> str:
    """One ``--forwarded-allow-ips`` entry: ``*``, ``unix``, an IP address
    or network (``10.0.0.0/8``)."""
    value = str(text).strip()
    if value in ("*", "unix"):
        return value
    try:
        return str(ipaddress.ip_network(value, strict=False))
    except ValueError:
        raise ValueError("not an address, network, 'unix' or '*': %r" % text) from None


def _split_list(text: str) -> list[str]:
    return [part for part in re.split(r"[\s,]+", text.strip()) if part]


@dataclass(frozen=True)
class Option:
    """One setting: attribute name, flag, parser, help, and whether it repeats."""

    name: str
    help: str
    parse: Callable[[str], Any] = str
    repeat: bool = False  # a list: the flag may be given several times
    env_split: Callable[[str], list] = _split_list  # how PODPROXY_X lists split
    flag: bool = False  # a switch without a value
    metavar: str | None = None

    @property
    def env(self) -> str:
        return "PODPROXY_" + self.name.upper()

    @property
    def cli(self) -> str:
        return "--" + self.name.replace("_", "-")


OPTIONS: tuple[Option, ...] = (
    Option("bind", "Address to listen on: HOST:PORT, [IPv6]:PORT or unix:/path/to.sock. "
           "Repeat for several. Default 127.0.0.1:8080.", repeat=True, metavar="ADDRESS"),
    Option("socket_mode", "Mode of the unix sockets of --bind unix:PATH, in octal. Default 0600 (the "
           "server's user only), 0660 with --socket-group.", parse=parse_mode, metavar="MODE"),
    Option("socket_group", "Group of the unix sockets of --bind unix:PATH (a name or number), e.g. nginx's "
           "www-data; the socket is then 0660 unless --socket-mode says otherwise.", metavar="GROUP"),
    Option("podman", "The podman binary: a name looked up on PATH, or a path. Default: podman.",
           metavar="PATH"),
    Option("podman_option", "A global podman option passed before every podman command, "
           "e.g. --podman-option=--root=/srv/store. Repeat for several. "
           "PODPROXY_PODMAN_OPTION is split like a shell command line.",
           repeat=True, env_split=shlex.split, metavar="OPTION"),
    Option("workers", "gunicorn worker processes. Default 2.", parse=int, metavar="N"),
    Option("threads", "Threads per worker (each serves one request; streams hold one "
           "for their whole length). Default 16.", parse=int, metavar="N"),
    Option("podman_timeout", "Seconds a non-streaming podman command may run before it is "
           "killed and the request fails with 500. Default 600.", parse=float, metavar="SECONDS"),
    Option("graceful_timeout", "Seconds a stopping server lets running requests (transfers) "
           "finish. Default 30.", parse=float, metavar="SECONDS"),
    Option("log_level", "Log level: debug, info, warning, error. Default info.", metavar="LEVEL"),
    Option("log_format", "Per-request log lines: text (key=value) or json (one object a line). "
           "Default text.", parse=parse_log_format, metavar="FORMAT"),
    Option("ready_timeout", "Seconds /readyz waits for 'podman version' before answering 503. "
           "Default 5.", parse=float, metavar="SECONDS"),
    Option("header_timeout", "Seconds a client has to send a request's whole head (request line and "
           "headers) once it has connected or begun it; then the connection is closed. Until then it "
           "holds no thread. Default 5.", parse=float, metavar="SECONDS"),
    Option("body_timeout", "Seconds a request's body may make no progress before the request is "
           "dropped (an upload is then removed, podman never started), and that a client may take "
           "to read one chunk (up to 1 MiB) of an answer. 0 = never. Default 30.", parse=float,
           metavar="SECONDS"),
    # transfers (load, import, scp)
    Option("max_body_size", "Largest request body, on every route: 512M, 4G... A bigger Content-Length is "
           "a 413 before the body is read; uploads (load, import, build) are also cut off with 413 while "
           "they stream, and nothing is stored. Default 0 = no limit.",
           parse=parse_size, metavar="SIZE"),
    Option("allow_url_import", "Let POST /libpod/images/import?url= make this server fetch an "
           "http(s) URL. Off by default (403).", flag=True),
    Option("max_context_size", "Largest build context once unpacked (the sum of its files' sizes; "
           "it may hold at most %d members): 512M, 4G... Over it the build is refused with 413 and "
           "nothing is kept. Default 4G; 0 = no limit on bytes." % MAX_CONTEXT_MEMBERS,
           parse=parse_size, metavar="SIZE"),
    Option("allow_build_network", "Let builds reach the network from this server: remote ADD "
           "sources (http(s), git URLs) and RUN steps with a network. Off by default: such ADD "
           "sources are refused with 403 and RUN steps run with --network=none.", flag=True),
    Option("allow_scp", "Let POST /libpod/images/scp make this server copy images over ssh with "
           "its own keys. Off by default (403).", flag=True),
    Option("cache", "Answer reads (exists, inspect, tree, history, list) from a cache of podman's answers, "
           "checked against podman's storage files on every request so it is never stale. Default on.",
           parse=parse_bool, metavar="on|off"),
    Option("ui", "Serve the web page at /ui/ (static files only: the page needs no token, every action it "
           "takes is an authenticated API call). Default on.", parse=parse_bool, metavar="on|off"),
    # security (auth.py, policy.py; README "Security")
    Option("token_file", "File of API tokens, one per line: NAME TOKEN [POLICY]. Clients send "
           "'Authorization: Bearer TOKEN' or HTTP basic NAME:TOKEN. Required to listen on a "
           "non-loopback TCP address.", metavar="PATH"),
    Option("policy", "Access policy: read-only, no-export, full (default) or the path of a rules "
           "file. A token's own POLICY narrows it further.", metavar="POLICY"),
    Option("forwarded_allow_ips", "Proxies trusted to say who the client is (as gunicorn names it): IP "
           "addresses or networks, 'unix' for a peer on a unix socket (nginx on podproxy's socket), '*' for "
           "any. From a trusted peer, the client address (what the failure "
           "brake counts) is the rightmost untrusted hop of X-Forwarded-For. Repeat for several (the variable: "
           "commas). Default: none (the peer itself).",
           repeat=True, parse=parse_trusted, metavar="ADDRESSES"),
    Option("insecure", "Allow listening on a non-loopback TCP address without --token-file "
           "(anyone who reaches the port gets root-equivalent access).", flag=True),
)


@dataclass
class Settings:
    """Everything podproxy can be told. Defaults are safe for a local service."""

    bind: list = field(default_factory=lambda: ["127.0.0.1:8080"])
    socket_mode: int | None = None
    socket_group: str | None = None
    podman: str = "podman"
    podman_option: list = field(default_factory=list)  # one per --podman-option, as the flag is named
    workers: int = 2
    threads: int = 16
    podman_timeout: float = 600.0
    graceful_timeout: float = 30.0
    log_level: str = "info"
    log_format: str = "text"
    ready_timeout: float = 5.0
    header_timeout: float = 5.0
    body_timeout: float = 30.0
    max_body_size: int = 0
    allow_url_import: bool = False
    max_context_size: int = 4 << 30
    allow_build_network: bool = False
    allow_scp: bool = False
    cache: bool = True
    ui: bool = True
    token_file: str | None = None
    policy: str = "full"
    forwarded_allow_ips: list = field(default_factory=list)
    insecure: bool = False

    @classmethod
    def from_env(cls, environ=None, **overrides) -> Settings:
        """Defaults, then ``PODPROXY_*`` variables, then ``overrides``."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for opt in OPTIONS:
            raw = environ.get(opt.env)
            if raw is None or raw == "":
                continue
            try:
                if opt.repeat:
                    values[opt.name] = [opt.parse(v) for v in opt.env_split(raw)]
                elif opt.flag:
                    values[opt.name] = parse_bool(raw)
                else:
                    values[opt.name] = opt.parse(raw)
            except ValueError as e:
                raise ValueError("%s: %s" % (opt.env, e)) from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise TypeError("unknown settings: %s" % ", ".join(sorted(unknown)))
        return cls(**values)
