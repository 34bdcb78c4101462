"""``POST /libpod/build`` (compat/images_build.go as libpod serves it).

The body is the build context as a tar (optionally compressed). It is
written to a private temp directory and unpacked there with Python's
``data`` extraction filter (no absolute paths, no ``..``, no devices, no
links out of the context), then ``podman build`` runs on it and its output
is streamed as podman's JSON lines. The directory goes on every path.
Containerfiles must lie inside the context: podman's own service would
read any path on the server.
"""
from __future__ import annotations

import os
import shutil
import tarfile

from flask import Response, g, request

from .. import gojson, scratch
from ..engine import uploads
from ..engine.build import BuildOptions
from ..errors import APIError
from ..query import Bool, Int, List, Query, Str
from ..references import registry_of
from ..registry_auth import RegistryAuth
from ..routing import RouteTable
from .responses import features, services
from .transfers import request_body

routes = RouteTable("build")

# the common parameters (podman's names and defaults; others are ignored)
BUILD = Query(
    Str("dockerfile", "Dockerfile"), List("t"), Bool("q"), Bool("nocache"), Str("pullpolicy"), Bool("layers"),
    Str("buildargs"), Str("labels"), Str("annotations"), Str("target"), List("platform"), Bool("rm", True),
    Bool("forcerm"), Bool("squash"), Str("outputformat"), Int("timestamp"), Bool("identitylabel", True),
    Bool("omithistory"), Bool("skipunusedstages", True), Int("jobs", 1), List("setenv"), List("unsetenv"),
    Str("from"), Bool("tlsVerify", True), Str("remote"),
)
TAR_TYPES = ("application/x-tar", "application/tar")


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
    """The request body -> ``workdir/tarBall`` -> ``workdir/build``."""
    tarball = os.path.join(workdir, "tarBall")
    uploads.save(request_body(services().settings.max_body_size), tarball)
    context = os.path.join(workdir, "build")
    os.mkdir(context, 0o700)
    try:
        with tarfile.open(tarball, "r:*") as tar:
            tar.extractall(context, filter="data")
    except (tarfile.ReadError, EOFError):  # not a tar, or cut short: what Go's tar reader says
        raise APIError(500, "unexpected EOF") from None
    except (tarfile.TarError, OSError) as e:  # e.g. a member the data filter refuses
        raise APIError(500, "unpacking the build context: %s" % e) from None
    finally:
        os.unlink(tarball)
    return context


def _options(query) -> BuildOptions:
    return BuildOptions(
        tags=query["t"] or [], quiet=query["q"], no_cache=query["nocache"], pull_policy=query["pullpolicy"] or "missing",
        layers=query["layers"], build_args=_json(query, "buildargs", gojson.MAP(gojson.STRING), {}),
        labels=_labels(query), annotations=_json(query, "annotations", gojson.SLICE(gojson.STRING), []),
        target=query["target"], platforms=query["platform"] or [], rm=query["rm"], force_rm=query["forcerm"],
        squash=query["squash"], output_format=query["outputformat"],
        timestamp=query["timestamp"] if "timestamp" in query.present else None,
        identity_label=query["identitylabel"], omit_history=query["omithistory"],
        skip_unused_stages=query["skipunusedstages"], jobs=query["jobs"] if "jobs" in query.present else None,
        env=query["setenv"] or [], unset_env=query["unsetenv"] or [], from_image=query["from"],
        tls_verify=query["tlsVerify"] if "tlsVerify" in query.present else None,
    )


def _line(obj) -> bytes:
    return (gojson.dumps(obj) + "\n").encode("utf-8")


@routes.route("POST", "/libpod/build")
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
            query = BUILD.decode(g.query_pairs, g.request_uri)
        except APIError as e:
            raise APIError(400, e.cause) from None
        if query["remote"]:
            raise APIError(400, "remote build contexts are not supported by podproxy", "not supported")
        files, early_error = _containerfiles(query, context)
        absent = next((f for f in files if not os.path.exists(f)), None)
        if absent is not None and early_error is None:  # podman 5's CLI words this otherwise
            shutil.rmtree(workdir, ignore_errors=True)
            message = "stat %s: no such file or directory\n" % absent
            return Response((x for x in [_line({"errorDetail": {"message": message}, "error": message})]),
                            status=200, content_type="application/json")
        opts = _options(query)
        auth = RegistryAuth.from_headers(request.headers, g.request_uri, registry_of(opts.from_image or "docker.io"))
        progress = services().builder.build(context, files, opts, auth.options())
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
                yield _line({"stream": line + "\n"})
            if progress.exit_code != 0:
                message = progress.error + "\n"
                yield _line({"errorDetail": {"message": message}, "error": message})
        finally:
            progress.close()
            auth.close()
            shutil.rmtree(workdir, ignore_errors=True)

    return Response(body(), status=early_error.status if early_error else 200, content_type="application/json")
