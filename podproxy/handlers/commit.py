"""The commit route (libpod/images.go: CommitContainer): a container's
changes as a new image, answered as one ID or, from podman 4.8, as a stream;
podman 5.0's config body."""
from __future__ import annotations

import json
import os
import shutil

from flask import Response, request

from ..engine import scratch
from ..engine.podman.errors import PodmanError
from ..engine.transfers import Commit
from ..gocompat import jsonscan
from ..security import policy
from ..services import features, services
from ..web.errors import APIError
from ..web.query import Bool, List, Query, Str
from ..web.responses import json_line, json_response
from ..web.routing import RouteTable
from ..web.schemas import ANY_OBJECT, JSON, ok
from ..web.versioned import ByVersion
from .errors import error, internal_server_error

# the transfers tag in the OpenAPI document, registered right after handlers/transfers.py's table
routes = RouteTable("transfers")

COMMIT = ByVersion(Query(Str("author"), List("changes"), Str("comment"), Str("container"),
                         Str("format", "oci", enum=("oci", "docker")), Bool("pause"), Bool("squash"), Str("repo"),
                         Str("tag")),
                   commit_stream=(Bool("stream"),))


def transfers():
    return services().transfers


_LOOKUP_FAILURES = ("no such container", "name or ID cannot be empty")


@routes.route("POST", "/libpod/commit", query=COMMIT, access=policy.WRITE,
              response=ok(200, "the new image's ID", JSON, ANY_OBJECT))
def commit(query):
    fmt = query["format"]
    if fmt == "oci":
        if query["comment"]:
            raise APIError(500, "messages are only compatible with the docker image format (-f docker)")
    elif fmt != "docker":
        raise APIError(500, 'unrecognized image format "%s"' % fmt)
    repo = query["repo"]
    image = "%s:%s" % (repo, query["tag"] or "latest") if repo else ""
    config = _commit_config() if features().commit_config_body else None
    workdir = None
    try:
        if config:
            workdir = scratch.mkdtemp("commit")
            with open(os.path.join(workdir, "config.json"), "wb") as f:
                f.write(config)
        options = Commit(container=query["container"], image=image, author=query["author"],
                         message=query["comment"], changes=tuple(query["changes"] or ()), format=fmt,
                         pause=query["pause"], squash=query["squash"],
                         config=os.path.join(workdir, "config.json") if workdir else "")
        if query.get("stream"):
            resp = _commit_stream(options, workdir)
            workdir = None  # the answer removes it when it ends
            return resp
        try:
            image_id = transfers().commit(options)
        except PodmanError as e:
            raise _commit_error(e)
        return json_response(200, {"Id": image_id})
    finally:
        if workdir:
            shutil.rmtree(workdir, ignore_errors=True)


_CONFIG_LIMIT = 1 << 20


def _commit_config() -> bytes | None:
    """podman 5.0's commit body (``DecodeOverrideConfig``: one JSON value,
    a ``manifest.Schema2Config``; an empty body is none). Bad JSON is a 400
    with Go's decoder text, before the container is looked up."""
    body = request.stream.read(_CONFIG_LIMIT + 1)
    if len(body) > _CONFIG_LIMIT:
        raise APIError(413, "request body too large")
    text = body.decode("utf-8", "replace")
    if not text.strip():
        return None
    err = jsonscan.syntax_error(text)
    if err is not None and "after top-level value" not in err:  # Go's decoder wording; it reads one value only
        raise APIError(400, "unexpected EOF" if err == "unexpected end of JSON input" else err)
    value, _ = json.JSONDecoder().raw_decode(text.lstrip(" \t\r\n"))
    if value is not None and not isinstance(value, dict):
        kind = {bool: "bool", str: "string", list: "array"}.get(type(value), "number")
        raise APIError(400, "json: cannot unmarshal %s into Go value of type manifest.Schema2Config" % kind)
    return body


def _commit_error(e: PodmanError) -> APIError:
    if any(m in e.message for m in _LOOKUP_FAILURES):
        return error(404, e)
    return internal_server_error(e if features().commit_failure_prefix_gone else e.wrap("CommitFailure"))


def _commit_stream(options: Commit, workdir: str | None = None) -> Response:
    """podman 4.8+ ``stream=true``: ``BuildResponse`` lines, ``{"stream":
    line}`` per progress line, then ``{"stream": ID}`` (no newline) or
    ``{"errorDetail": ...}``. Until the first line, an error (the container
    lookup) is still an error answer; no Content-Type (set after the status)."""
    def cleanup():
        if workdir:
            shutil.rmtree(workdir, ignore_errors=True)

    try:
        progress = transfers().commit_progress(options)
    except BaseException:
        cleanup()
        raise
    lines = iter(progress)
    try:
        first = next(lines, None)
    except BaseException:
        progress.close()
        cleanup()
        raise
    if first is None:
        progress.close()
        if progress.exit_code != 0:
            cleanup()
            raise _commit_error(progress.failure())

    def body():
        try:
            if first is not None:
                yield json_line({"stream": first + "\n"})
                for text in lines:
                    yield json_line({"stream": text + "\n"})
            if progress.exit_code == 0:
                out = progress.stdout.decode("utf-8", "replace").split()
                yield json_line({"stream": out[-1] if out else ""})
            else:
                yield json_line({"errorDetail": {"message": progress.error}})
        finally:
            progress.close()
            cleanup()

    resp = Response(body(), status=200)
    resp.headers.remove("Content-Type")
    return resp
