"""``_ping``, ``version`` and ``info``: what a podman remote client needs to
connect (register_ping.go, register_version.go, register_info.go)."""
from __future__ import annotations

import datetime

from flask import Response, request

from ..security.policy import READ
from ..services import services
from ..web.responses import json_response
from ..web.routing import RouteTable
from ..web.schemas import ANY_OBJECT, JSON, STRING, TEXT, ok

ping_routes = RouteTable("ping")
version_routes = RouteTable("version")
info_routes = RouteTable("info")

# podman's API level for Docker-compatible clients, and the oldest it accepts
COMPAT_API_VERSION = "1.41"
COMPAT_MIN_API_VERSION = "1.24"
LIBPOD_MIN_API_VERSION = "4.0.0"


PING = {"GET": ok(200, "the service is up: OK", TEXT, STRING), "HEAD": ok(200, "the service is up", None)}


@ping_routes.route(("GET", "HEAD"), "/_ping", unversioned=True, access=READ, response=PING)
@ping_routes.route(("GET", "HEAD"), "/libpod/_ping", unversioned=True, access=READ, response=PING)
def ping():
    info = services().system
    buildah = ""
    try:
        buildah = info.info(cached=True).get("host", {}).get("buildahVersion", "")
    except Exception:
        pass
    resp = Response("" if request.method == "HEAD" else "OK", status=200,
                    content_type="text/plain; charset=utf-8")
    resp.headers["Builder-Version"] = ""
    resp.headers["Buildkit-Version"] = ""
    resp.headers["Cache-Control"] = "no-cache"
    resp.headers["Docker-Experimental"] = "true"
    resp.headers["Libpod-Buildah-Version"] = buildah
    resp.headers["Pragma"] = "no-cache"
    if request.method == "HEAD":
        resp.headers.remove("Content-Type")  # Go writes none without a body
    return resp


def _build_time(built: int) -> str:
    return datetime.datetime.fromtimestamp(built or 0, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@version_routes.route("GET", "/version", unversioned=True, access=READ,
                      response=ok(200, "podman's version", JSON, ANY_OBJECT))
@version_routes.route("GET", "/libpod/version", access=READ, response=ok(200, "podman's version", JSON, ANY_OBJECT))
def version():
    """compat.VersionHandler: podman's version plus conmon and the OCI runtime."""
    system = services().system
    v = system.version()
    host = system.info(cached=True).get("host", {})
    os_name, _, arch = v.get("OsArch", "linux/amd64").partition("/")
    dist = host.get("distribution", {})
    kernel = host.get("kernel", "")
    build_time = _build_time(v.get("Built", 0))
    conmon = host.get("conmon", {})
    runtime = host.get("ociRuntime", {})
    body = {
        "Platform": {"Name": "%s/%s/%s-%s" % (os_name, arch, dist.get("distribution", ""), dist.get("version", ""))},
        "Components": [
            {
                "Name": "Podman Engine",
                "Version": v.get("Version", ""),
                "Details": {
                    "APIVersion": v.get("APIVersion", ""),
                    "Arch": arch,
                    "BuildTime": build_time,
                    "Experimental": "false",
                    "GitCommit": v.get("GitCommit", ""),
                    "GoVersion": v.get("GoVersion", ""),
                    "KernelVersion": kernel,
                    "MinAPIVersion": LIBPOD_MIN_API_VERSION,
                    "Os": os_name,
                },
            },
            {"Name": "Conmon", "Version": conmon.get("version", ""), "Details": {"Package": conmon.get("package", "")}},
            {
                "Name": "OCI Runtime (%s)" % runtime.get("name", ""),
                "Version": runtime.get("version", ""),
                "Details": {"Package": runtime.get("package", "")},
            },
        ],
        "Version": v.get("Version", ""),
        "ApiVersion": COMPAT_API_VERSION,
        "MinAPIVersion": COMPAT_MIN_API_VERSION,
        "GitCommit": v.get("GitCommit", ""),
        "GoVersion": v.get("GoVersion", ""),
        "Os": os_name,
        "Arch": arch,
        "KernelVersion": kernel,
        "BuildTime": build_time,
    }
    return json_response(200, body)


@info_routes.route("GET", "/libpod/info", access=READ, response=ok(200, "podman info", JSON, ANY_OBJECT))
def info():
    """libpod.GetInfo: ``podman info`` as the API returns it. A service
    reports its own socket as ``host.remoteSocket`` (the CLI run by
    podproxy reports the default one, which does not exist): ours is the
    first address podproxy serves."""
    data = services().system.info()
    host = data.get("host")
    if isinstance(host, dict):
        host["remoteSocket"] = {"path": _service_url(services().settings.bind), "exists": True}
    return json_response(200, data)


def _service_url(binds: list) -> str:
    first = binds[0] if binds else "127.0.0.1:8080"
    if first.startswith("unix:"):
        return "unix:///" + first[len("unix:"):].lstrip("/")
    return "tcp://" + first
