"""``POST /libpod/build`` (compat/images_build.go as libpod serves it).

The body is the build context as a tar (optionally compressed). It is
written to a private temp directory and unpacked there with Python's
``data`` extraction filter (no absolute paths, no ``..``, no devices, no
links out of the context), then ``podman build`` runs on it and its output
is streamed as podman's JSON lines. The directory goes on every path.
Containerfiles must lie inside the context: podman's own service would
read any path on the server. The unpacked context is bounded by
``--max-context-size`` (413). Unless ``--allow-build-network``, a
Containerfile that would fetch something (remote ``ADD``, ``RUN
--network``) is refused with 403 before podman starts, and RUN steps run
with ``--network=none``. Server paths (the temp dir, named after the
worker) never reach the client: messages name files as the client sent
them, relative to its context.
"""
from __future__ import annotations

import os
import shutil

from flask import Response, g, request

from ..engine import context as contexts
from ..engine import scratch
from ..engine.build import BuildOptions
from ..gocompat import gojson
from ..gocompat.platforms import cli_platform, platform_error
from ..gocompat.reference import registry_of
from ..security.policy import CONTENT
from ..security.registry_auth import RegistryAuth
from ..services import features, services
from ..settings import MAX_CONTEXT_MEMBERS
from ..web.bodies import decode_query
from ..web.errors import APIError
from ..web.query import Bool, Int, List, Query, Str
from ..web.responses import json_line
from ..web.routing import RouteTable
from ..web.schemas import ANY_OBJECT, JSON, ok
from ..web.versioned import ByVersion
from .uploads import request_body

routes = RouteTable("build")

# the common parameters (podman's names and defaults; others are ignored),
# and those of later podman releases (ignored before, as gorilla/schema does)
BUILD = ByVersion(Query(
    Str("dockerfile", "Dockerfile"), List("t"), Bool("q"), Bool("nocache"), Str("pullpolicy"), Bool("layers"),
    Str("buildargs"), Str("labels"), Str("annotations"), Str("target"), List("platform"), Bool("rm", True),
    Bool("forcerm"), Bool("squash"), Str("outputformat"), Int("timestamp"), Bool("identitylabel", True),
    Bool("omithistory"), Bool("skipunusedstages", True), Int("jobs", 1), List("setenv"), List("unsetenv"),
    Str("from"), Bool("tlsVerify", True), Str("remote"),
), build_compat_volumes=(Bool("compatvolumes"),), build_no_hosts=(Bool("nohosts"),))
TAR_TYPES = ("application/x-tar", "application/tar")
MAX_CONTAINERFILE = 8 << 20  # characters read to look for network use (real ones are a few KiB)


def bad_request(key: str, value: str, err: str) -> APIError:
    """podman's ``utils.BadRequest``."""
    return APIError(400, "failed to parse query parameter '%s': %s: %s" % (key, gojson.go_quote(value), err), err)


def _json(query, key: str, go_type, default):
    """A JSON-valued parameter, decoded only when the key was sent."""
    if key not in query.present:
        return default
    value, err = gojson.unmarshal(query[key], go_type)
    if err is not None:
        raise bad_request(key, query[key], err)
    return value if value is not None else default


def _labels(query) -> list[str]:
    """``labels``: a JSON object, else a JSON list of "k=v"."""
    if "labels" not in query.present:
        return []
    mapping, err = gojson.unmarshal(query["labels"], gojson.MAP(gojson.STRING))
    if err is None:
        return ["%s=%s" % kv for kv in (mapping or {}).items()]
    return _json(query, "labels", gojson.SLICE(gojson.STRING), [])


def _containerfiles(query, context: str) -> tuple[list[str], APIError | None]:
    """The Containerfiles, inside the context: ``dockerfile`` is a JSON
    list or one name; without it Containerfile, else Dockerfile. When
    neither exists podman writes a 400 error and then goes on building
    with Dockerfile (its handler does not return): that error comes back
    second, for the caller to write first."""
    if "dockerfile" in query.present:
        names, err = gojson.unmarshal(query["dockerfile"], gojson.SLICE(gojson.STRING))
        if err is not None:
            names = [query["dockerfile"]]
        files = []
        root = os.path.realpath(context)
        for name in names or []:
            path = os.path.realpath(os.path.join(context, name))
            if not path.startswith(root + os.sep):
                raise bad_request("dockerfile", query["dockerfile"],
                                  "containerfiles must be inside the build context")
            files.append(path)
        return files, None
    for name in ("Containerfile", "Dockerfile"):
        path = os.path.join(context, name)
        if os.path.exists(path):
            return [path], None
    f = features()
    err = bad_request("dockerfile", query["dockerfile"], "%s %s: no such file or directory" % (
        "faccessat" if f.build_faccessat else "stat", os.path.join(context, "Containerfile")))
    err = APIError(400, err.message, "no such file or directory")  # os.PathError unwraps to the errno
    if f.build_no_file_ends:
        raise err
    return [path], err


def _unpack(workdir: str) -> str:
    """The request body unpacked in ``workdir/build`` (``engine.context.receive``), its
    errors as podman answers them."""
    settings = services().settings
    body = request_body(settings.max_body_size)
    try:
        return contexts.receive(body, workdir, settings.max_context_size, MAX_CONTEXT_MEMBERS)
    except contexts.ContextTooLarge as e:
        raise APIError(413, "%s (start podproxy with a larger --max-context-size)" % e,
                       "build context too large") from None
    except contexts.BadContext as e:
        message = str(e)
        if message == "unexpected EOF":  # not a tar, or cut short: what Go's tar reader says
            raise APIError(500, message) from None
        raise APIError(500, "unpacking the build context: %s" % _client_view(message, workdir)) from None


def _client_view(text: str, workdir: str) -> str:
    """``text`` with the server's paths of the context made relative to it,
    as the client knows them (``/tmp/podproxy-<pid>-build-x/build/Dockerfile``
    -> ``Dockerfile``)."""
    for root in {os.path.join(workdir, "build"), os.path.realpath(os.path.join(workdir, "build"))}:
        text = text.replace(root + os.sep, "").replace(root, ".")
    for root in {workdir, os.path.realpath(workdir)}:
        text = text.replace(root + os.sep, "").replace(root, ".")
    return text


def start_build(context: str, files: list[str], opts: BuildOptions):
    """(auth, progress) of a build both build routes start the same way:
    network use refused unless allowed, registry credentials from the
    request's headers. The caller closes ``auth`` on every path."""
    if not opts.network:
        _refuse_network(files, context)
    auth = RegistryAuth.from_headers(request.headers, g.request_uri, registry_of(opts.from_image or "docker.io"))
    try:
        return auth, services().builder.build(context, files, opts, auth.options())
    except BaseException:
        auth.close()
        raise


def _refuse_network(files: list[str], context: str) -> None:
    """403 when a Containerfile would fetch something (see engine/context.py)."""
    for path in files:
        name = os.path.relpath(path, os.path.realpath(context))
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read(MAX_CONTAINERFILE + 1)
        except OSError:
            continue  # podman reports a missing Containerfile itself
        if len(text) > MAX_CONTAINERFILE:  # not read whole into memory, so not checked: refused
            raise APIError(413, "Containerfile %s is larger than %d bytes" % (name, MAX_CONTAINERFILE),
                           "Containerfile too large")
        uses = contexts.network_uses(name, text)
        if uses:
            raise APIError(403, "building with network access is disabled on this server (start podproxy with "
                                "--allow-build-network): %s in %s" % (uses[0], name), "build network disabled")


def _platforms(query) -> list[str]:
    """The ``platform`` values as podman's handler takes them (one value is a
    comma-separated list from podman 5.2), each checked by buildah's
    ``parse.Platform`` (400 for a bad one), as ``--platform`` values.
    Known difference: before 5.2 podman takes "linux/amd64,linux/arm64" for
    one (odd) platform and its build then fails; the CLI cannot be given
    such a platform and builds both."""
    f = features()
    values = query["platform"] or []
    if f.build_platform_list and len(values) == 1:
        values = values[0].split(",")
    out = []
    for spec in values:
        err = platform_error(spec, f.build_platform_containerd)
        if err is not None:
            raise APIError(400, bad_request("platform", spec, err[0]).message, err[1])
        out.append(cli_platform(spec, f.build_platform_containerd))
    return out


def error_line(message: str) -> bytes:
    """A failed build's last line, as podman's build stream ends (both keys)."""
    return json_line({"errorDetail": {"message": message}, "error": message})


def _options(query) -> BuildOptions:
    return BuildOptions(
        tags=query["t"] or [], quiet=query["q"], no_cache=query["nocache"],
        pull_policy=query["pullpolicy"] or "missing",
        layers=query["layers"], build_args=_json(query, "buildargs", gojson.MAP(gojson.STRING), {}),
        labels=_labels(query), annotations=_json(query, "annotations", gojson.SLICE(gojson.STRING), []),
        target=query["target"], platforms=_platforms(query), rm=query["rm"], force_rm=query["forcerm"],
        squash=query["squash"], output_format=query["outputformat"],
        timestamp=query["timestamp"] if "timestamp" in query.present else None,
        identity_label=query["identitylabel"], omit_history=query["omithistory"],
        skip_unused_stages=query["skipunusedstages"], jobs=query["jobs"] if "jobs" in query.present else None,
        env=query["setenv"] or [], unset_env=query["unsetenv"] or [], from_image=query["from"],
        tls_verify=query["tlsVerify"] if "tlsVerify" in query.present else None,
        network=services().settings.allow_build_network,
        compat_volumes=query.get("compatvolumes"),
        no_hosts=query.get("nohosts", False),
    )


@routes.route("POST", "/libpod/build", query=BUILD, decode_in_handler=True, access=CONTENT,
              response=ok(200, "build progress (a JSON stream)", JSON, ANY_OBJECT))
def build():
    content_type = request.headers.get("Content-Type")
    if content_type is not None and content_type not in TAR_TYPES:
        raise bad_request("Content-Type", content_type,
                          'Content-Type: %s is not supported. Should be "application/x-tar"' % content_type)
    workdir = scratch.mkdtemp("build")
    auth = None
    try:
        context = _unpack(workdir)
        try:  # after the body, as podman does, and without the usual prefix
            query = decode_query(BUILD)
        except APIError as e:
            raise APIError(400, e.cause) from None
        if query["remote"]:
            raise APIError(400, "remote build contexts are not supported by podproxy", "not supported")
        files, early_error = _containerfiles(query, context)
        if early_error is not None:
            early_error = APIError(early_error.status, _client_view(early_error.message, workdir), early_error.cause)
        absent = next((f for f in files if not os.path.exists(f)), None)
        if absent is not None and early_error is None:  # podman 5's CLI words this otherwise
            shutil.rmtree(workdir, ignore_errors=True)
            message = "stat %s: no such file or directory\n" % absent
            return Response((x for x in [error_line(message)]),
                            status=200, content_type="application/json")
        opts = _options(query)
        auth, progress = start_build(context, files, opts)
    except BaseException:
        if auth is not None:
            auth.close()
        shutil.rmtree(workdir, ignore_errors=True)
        raise

    def body():
        try:
            if early_error is not None:
                yield early_error.body().encode("utf-8")
            for line in progress:
                yield json_line({"stream": _client_view(line, workdir) + "\n"})
            if progress.exit_code != 0:
                message = _client_view(progress.error, workdir) + "\n"
                yield error_line(message)
        finally:
            progress.close()
            auth.close()
            shutil.rmtree(workdir, ignore_errors=True)

    return Response(body(), status=early_error.status if early_error else 200, content_type="application/json")
