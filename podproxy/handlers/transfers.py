"""The libpod routes that move image data (libpod/images.go: ExportImage,
ExportImages, ImagesLoad, ImagesImport, CommitContainer, ImageScp).

Same shape as ``handlers/images.py``: the dispatcher decodes the query, each
handler makes one engine call and answers with podman's status, wrapping
and encoding. What differs from podman is how bytes travel: exports stream
podman's stdout to the client as it comes (podman's service stages a temp
file first); uploads are written to the file podman reads, spliced from the
socket by the kernel when they have a Content-Length (``engine/uploads``).

Errors before the first byte get podman's status and body. After that the
status is gone, so a failure raises inside the body generator: gunicorn
then drops the connection and the client sees a truncated chunked body,
never a short "200".
"""
from __future__ import annotations

import logging
import os
import shutil
import socket
from urllib.parse import urlsplit

from flask import Response, request

from ..engine.podman.errors import ClientGone, NotFound, PodmanError
from ..engine.transfers import ARCHIVE_FORMATS, DIR_FORMATS, Commit, scp_refusal
from ..engine.uploads import SocketBody
from ..observability import access as observe
from ..web.errors import APIError, ImageNotFoundOnOtherError
from ..web.query import Bool, List, Query, Str
from ..web.responses import json_response
from ..services import engine, features, services
from ..web.routing import RouteTable
from ..engine import scratch
from ..gocompat import gojson, jsonscan
from ..web.versioned import ByVersion

log = logging.getLogger("podproxy.transfers")

routes = RouteTable("transfers")
scp_routes = RouteTable("scp")  # registered last: podman's {name:.*}/push, /tag... win over scp/{name:.*}

ARCHIVE_TYPE = "application/octet; charset=us-ascii"  # utils.WriteResponse of an *os.File (sic)
TAR_TYPE = "application/x-tar"  # ... and of any other io.Reader
FORM_TYPE = "application/x-www-form-urlencoded"
UPLOAD_CHUNK = 1 << 20  # reads of a chunked body: measured ~2x faster than 64 KiB

EXPORT = Query(Bool("compress"), Str("format", "oci-archive"))
EXPORT_MANY = Query(Bool("compress"), Str("format", "oci-archive"), Bool("ociAcceptUncompressedLayers"),
                    List("references"))
IMPORT = Query(List("changes"), Str("message"), Str("reference"), Str("URL"), Str("OS"), Str("Architecture"),
               Str("Variant"))
COMMIT = ByVersion(Query(Str("author"), List("changes"), Str("comment"), Str("container"), Str("format", "oci"),
                         Bool("pause"), Bool("squash"), Str("repo"), Str("tag")),
                   commit_stream=(Bool("stream"),))
SCP = Query(Str("destination"), Bool("quiet"))

# containers/image's reference.Parse errors: podman's lookup fails with
# them before saving, and its utils.ImageNotFound writes two bodies (2.3)
_LOOKUP_ERRORS = ("repository name must be lowercase", "invalid reference format",
                  "repository name must have at least one component", "repository name must not be more than")


def transfers():
    return services().transfers


def settings():
    return services().settings


def client_socket():
    """The client's socket under gunicorn (None in Flask's test client)."""
    return request.environ.get("gunicorn.socket")


# -- uploads -----------------------------------------------------------------

class BodyTooLarge(APIError):
    def __init__(self, limit: int):
        super().__init__(413, "request body too large: the limit is %d bytes" % limit, "request body too large")


def request_body(limit: int):
    """The request body for ``engine.uploads.save``: a ``SocketBody`` when
    the kernel can move it (see ``socket_body``), else chunks counted
    against ``limit`` (0 = none) as they stream (gunicorn has already undone
    a chunked transfer encoding).

    podman's ``apiWrapper`` calls ``r.ParseForm()`` first, so a form
    Content-Type makes podman read an *empty* body; podproxy gives podman
    the same empty input (same status and error) without reading the form
    into memory."""
    if request.mimetype == FORM_TYPE:
        return iter(())
    if limit and request.content_length is not None and request.content_length > limit:
        raise BodyTooLarge(limit)
    direct = socket_body(request.environ, request.content_length)
    if direct is not None:
        return direct
    # gunicorn's own body reader is bounded (Content-Length or chunked end)
    # and says so; werkzeug's LimitedStream on top of it halves throughput
    env = request.environ
    stream = env["wsgi.input"] if env.get("wsgi.input_terminated") else request.stream

    def chunks():
        total = 0
        while True:
            try:
                chunk = stream.read(UPLOAD_CHUNK)
            except OSError:  # the client went away half way (gunicorn's NoMoreData is one)
                raise ClientGone() from None
            except Exception as e:  # a malformed chunked encoding (gunicorn.http.errors)
                raise APIError(400, "reading the request body: %s" % e) from None
            if not chunk:
                if expected is not None and total < expected:  # cut short: never let podman use a partial body
                    raise ClientGone()
                return
            total += len(chunk)
            if limit and total > limit:
                raise BodyTooLarge(limit)
            yield chunk

    expected = request.content_length
    return chunks()


def socket_body(env, length: int | None) -> SocketBody | None:
    """The body as a ``SocketBody`` (spliced from the socket into the file
    podman reads) when gunicorn serves it over a plain socket (TLS bytes would be
    ciphertext) with a Content-Length and nothing of it read yet; None
    otherwise (chunked bodies, Flask's test client...), and the body is then
    read the usual way. gunicorn's reader is told of every byte taken, so
    that it knows where the next request on the connection starts."""
    sock = env.get("gunicorn.socket")
    if length is None or type(sock) is not socket.socket or env.get("HTTP_TRANSFER_ENCODING"):
        return None
    body = env.get("wsgi.input")
    body = getattr(body, "raw", body)  # observe's counting wrapper
    reader = getattr(body, "reader", None)
    unreader = getattr(reader, "unreader", None)
    untouched = getattr(getattr(body, "buf", None), "tell", lambda: -1)() == 0
    if not (untouched and getattr(reader, "length", None) == length and hasattr(unreader, "take_buffered")
            and hasattr(unreader, "unread")):
        return None
    head = unreader.take_buffered()
    if len(head) > length:  # a pipelined next request
        unreader.unread(head[length:])
        head = head[:length]
    record = env.get(observe.ENVIRON_KEY)

    def taken(n: int) -> None:
        reader.length -= n
        if record is not None:
            record.read(n)

    return SocketBody(sock, head, length, taken)


def too_large(err: BodyTooLarge) -> Response:
    """413 at once, closing the connection rather than letting gunicorn
    read the rest of an over-limit body first."""
    resp = Response(err.body(), status=413, content_type="application/json")
    resp.headers["Connection"] = "close"
    return resp


# -- export ------------------------------------------------------------------

def _streamed(chunks, content_type: str, close, length: int | None = None) -> Response:
    """200 with ``chunks`` (``length`` bytes, if known: a Content-Length
    instead of chunked framing); ``close`` runs when the body ends, fails,
    or the client goes away (gunicorn then closes the iterator)."""

    def body():
        try:
            yield from chunks
        except Exception:
            log.exception("export failed after the response started: cutting it short")
            raise
        finally:
            close()

    resp = Response(body(), status=200, content_type=content_type)
    if length is not None:
        resp.content_length = length
    return resp


def image_not_found(name: str, err: PodmanError):
    """podman's ``utils.ImageNotFound``: 404 for an unknown image; for
    any other lookup error a 500 body (before podman 5.2 followed by a 404
    body: ``versions.single_not_found_body``)."""
    if isinstance(err, NotFound):
        raise err.with_status(404)
    if features().single_not_found_body:
        raise err.with_status(500)
    raise ImageNotFoundOnOtherError(err)


@routes.route("GET", "/libpod/images/{name:.*}/get", query=EXPORT)
def export_image(name, query):
    fmt = query["format"]
    if fmt in DIR_FORMATS:
        try:
            chunks = transfers().save_dir(name, fmt, query["compress"], watch=client_socket())
        except PodmanError as e:
            return _save_failed(name, e)
        return _streamed(chunks, TAR_TYPE, chunks.close, chunks.length)
    if fmt not in ARCHIVE_FORMATS:
        try:  # podman looks the image up before it checks the format
            found = engine().exists(name)
        except PodmanError as e:
            return image_not_found(name, e)
        if not found:
            raise APIError(404, "%s: image not known" % name, "image not known")
        raise APIError(500, 'unknown format "%s"' % fmt)
    stream = transfers().save([name], fmt, query["compress"])
    try:
        stream.first(client_socket())
    except PodmanError as e:
        stream.close()
        return _save_failed(name, e)
    except BaseException:
        stream.close()
        raise
    return _streamed(stream, ARCHIVE_TYPE, stream.close)


def _save_failed(name: str, e: PodmanError):
    """Lookup errors as ``utils.ImageNotFound``; save errors are 400."""
    if isinstance(e, NotFound) or any(m in e.message for m in _LOOKUP_ERRORS):
        return image_not_found(name, e)
    raise e.with_status(400)


@routes.route("GET", "/libpod/images/export", query=EXPORT_MANY)
def export_images(query):
    refs, fmt = query["references"] or [], query["format"]
    if not refs:
        raise APIError(400, "no references")
    if len(refs) > 1 and fmt != "docker-archive":
        raise APIError(500, "multi-image archives must use format of docker-archive")
    if fmt in DIR_FORMATS and features().dir_export_tar:
        try:
            chunks = transfers().save_dir(refs[0], fmt, query["compress"], watch=client_socket())
        except PodmanError as e:
            raise e.with_status(400)
        return _streamed(chunks, TAR_TYPE, chunks.close, chunks.length)
    fmt = {"oci-dir": "oci-archive", "docker-dir": "docker-archive"}.get(fmt, fmt)
    if fmt not in ARCHIVE_FORMATS:
        raise APIError(500, 'unsupported format "%s"' % fmt)
    stream = transfers().save(refs, fmt, query["compress"], query["ociAcceptUncompressedLayers"])
    try:
        stream.first(client_socket())
    except PodmanError as e:
        stream.close()
        raise e.with_status(400)
    except BaseException:
        stream.close()
        raise
    return _streamed(stream, ARCHIVE_TYPE, stream.close)


# -- import --------------------------------------------------------------------

@routes.route("POST", "/libpod/images/load")
def load():
    try:
        names = transfers().load(request_body(settings().max_body_size))
    except BodyTooLarge as e:
        return too_large(e)
    except PodmanError as e:
        raise e.wrap("unable to load image", 500)
    return json_response(200, {"Names": names})


@routes.route("POST", "/libpod/images/import", query=IMPORT)
def import_image(query):
    url = query["URL"]
    try:
        if url:
            body = url_body(url)
        else:
            body = request_body(settings().max_body_size)
        image_id = transfers().import_(body, reference=query["reference"], message=query["message"],
                                       changes=query["changes"] or [], os_=query["OS"],
                                       arch=query["Architecture"], variant=query["Variant"])
    except BodyTooLarge as e:
        return too_large(e)
    except PodmanError as e:
        raise e.wrap("unable to import tarball", 500)
    return json_response(200, {"Id": image_id})


def url_body(url: str):
    """The ``url`` source: off unless --allow-url-import; then only http(s),
    fetched here with ``requests`` and streamed into podman (podman's own
    service would also open any path on the server)."""
    if not settings().allow_url_import:
        raise APIError(403, "importing from a URL is disabled on this server (start podproxy with "
                            "--allow-url-import)", "URL import disabled")
    if urlsplit(url).scheme.lower() not in ("http", "https") or not urlsplit(url).netloc:
        raise APIError(400, "only http and https URLs can be imported: %s" % url, "unsupported URL")
    import requests

    limit = settings().max_body_size
    try:
        resp = requests.get(url, stream=True, timeout=(10, 300))
        resp.raise_for_status()
    except requests.RequestException as e:
        raise APIError(500, "unable to import tarball: fetching %s: %s" % (url, e), str(e)) from None

    def chunks():
        total = 0
        try:
            for chunk in resp.iter_content(64 * 1024):
                total += len(chunk)
                if limit and total > limit:
                    raise BodyTooLarge(limit)
                yield chunk
        finally:
            resp.close()

    return chunks()


# -- commit --------------------------------------------------------------------

_LOOKUP_FAILURES = ("no such container", "name or ID cannot be empty")


@routes.route("POST", "/libpod/commit", query=COMMIT)
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
    import json

    value, _ = json.JSONDecoder().raw_decode(text.lstrip(" \t\r\n"))
    if value is not None and not isinstance(value, dict):
        kind = {bool: "bool", str: "string", list: "array"}.get(type(value), "number")
        raise APIError(400, "json: cannot unmarshal %s into Go value of type manifest.Schema2Config" % kind)
    return body


def _commit_error(e: PodmanError) -> APIError:
    if any(m in e.message for m in _LOOKUP_FAILURES):
        return e.with_status(404)
    return e.with_status(500) if features().commit_failure_prefix_gone else e.wrap("CommitFailure", 500)


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

    def line(obj) -> bytes:
        return (gojson.dumps(obj) + "\n").encode("utf-8")

    def body():
        try:
            if first is not None:
                yield line({"stream": first + "\n"})
                for text in lines:
                    yield line({"stream": text + "\n"})
            if progress.exit_code == 0:
                out = progress.stdout.decode("utf-8", "replace").split()
                yield line({"stream": out[-1] if out else ""})
            else:
                yield line({"errorDetail": {"message": progress.error}})
        finally:
            progress.close()
            cleanup()

    resp = Response(body(), status=200)
    resp.headers.remove("Content-Type")
    return resp


# -- scp -----------------------------------------------------------------------

@scp_routes.route("POST", "/libpod/images/scp/{name:.*}", query=SCP)
def scp(name, query):
    """podman's ``ExecuteTransfer`` argument checks, answered here; a real
    (ssh) transfer only with --allow-scp."""
    refusal = scp_refusal(name, query["destination"])
    if refusal is not None:
        status, message = refusal
        raise APIError(status, message, "invalid argument" if message.endswith(": invalid argument") else None)
    if not settings().allow_scp:
        raise APIError(403, "image transfers over ssh are disabled on this server (start podproxy with "
                            "--allow-scp)", "scp disabled")
    try:
        image = transfers().scp(name, query["destination"], query["quiet"])
    except PodmanError as e:  # podman's service runs the transfer as a child podman: an *exec.ExitError
        log.info("scp %s to %s failed: %s", name, query["destination"], e.message)
        raise APIError(500, "exit status %d" % e.exit_code) from None
    return json_response(200, {"Id": image})
