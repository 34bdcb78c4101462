"""The libpod routes that move image data (libpod/images.go: ExportImage,
ExportImages, ImagesLoad, ImagesImport, ImageScp; CommitContainer is in
``commit.py``, the request bodies in ``uploads.py``).

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
import select
import socket
from collections.abc import Callable
from functools import partial

from flask import Response, request

from ..engine.podman.errors import UNSUPPORTED, NotFound, PodmanError
from ..engine.transfers import ARCHIVE_FORMATS, DIR_FORMATS, scp_refusal
from ..security import policy
from ..services import engine, features, services
from ..web.errors import APIError
from ..web.query import Bool, List, Query, Str
from ..web.responses import json_response
from ..web.routing import RouteTable
from ..web.schemas import ANY_OBJECT, BINARY, JSON, TAR, ok
from .errors import error, internal_server_error, lookup_failed
from .uploads import BodyTooLarge, request_body, too_large, url_body

log = logging.getLogger("podproxy.transfers")

routes = RouteTable("transfers")
scp_routes = RouteTable("scp")  # registered last: podman's {name:.*}/push, /tag... win over scp/{name:.*}

ARCHIVE_TYPE = "application/octet; charset=us-ascii"  # utils.WriteResponse of an *os.File (sic)
TAR_TYPE = "application/x-tar"  # ... and of any other io.Reader

EXPORT = Query(Bool("compress"), Str("format", "oci-archive", enum=ARCHIVE_FORMATS + DIR_FORMATS))
EXPORT_MANY = Query(Bool("compress"), Str("format", "oci-archive", enum=ARCHIVE_FORMATS + DIR_FORMATS),
                    Bool("ociAcceptUncompressedLayers"), List("references", required=True))
IMPORT = Query(List("changes"), Str("message"), Str("reference"), Str("URL"), Str("OS"), Str("Architecture"),
               Str("Variant"))
SCP = Query(Str("destination"), Bool("quiet"))

# containers/image's reference.Parse errors: podman's lookup fails with
# them before saving, and its utils.ImageNotFound writes two bodies (2.3)
_LOOKUP_ERRORS = ("repository name must be lowercase", "invalid reference format",
                  "repository name must have at least one component", "repository name must not be more than")


def transfers():
    return services().transfers


def settings():
    return services().settings


def client_gone(sock: socket.socket) -> bool:
    """True if the peer of ``sock`` has closed (EOF or reset); data sent
    ahead by the client (a pipelined request) is not a close. Never waits:
    the socket is peeked only once poll says it is readable (a socket with
    a timeout would make even a MSG_DONTWAIT recv wait that long)."""
    poller = select.poll()
    poller.register(sock.fileno(), select.POLLIN | select.POLLRDHUP | select.POLLHUP)
    if not poller.poll(0):
        return False
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except (BlockingIOError, InterruptedError):
        return False
    except OSError:
        return True


def client_hung_up() -> Callable[[], bool] | None:
    """The engine's cancel callable for a silent podman: whether the
    client closed its connection (None in Flask's test client, which has
    no socket)."""
    sock = request.environ.get("gunicorn.socket")
    return None if sock is None else partial(client_gone, sock)


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


def _lookup_failed(err: PodmanError):
    """podman's ``utils.ImageNotFound`` where a save's lookup failed: 404
    for an unknown image (``NotFound``), else ``errors.lookup_failed``."""
    if isinstance(err, NotFound):
        raise error(404, err)
    raise lookup_failed(err)


@routes.route("GET", "/libpod/images/{name:.*}/get", query=EXPORT, access=policy.EXPORT, transfer="export",
              response=ok(200, "the image as an archive", TAR, BINARY))
def export_image(name, query):
    fmt = query["format"]
    if fmt in DIR_FORMATS:
        try:
            chunks = transfers().save_dir(name, fmt, query["compress"], cancelled=client_hung_up())
        except PodmanError as e:
            return _save_failed(name, e)
        return _streamed(chunks, TAR_TYPE, chunks.close, chunks.length)
    if fmt not in ARCHIVE_FORMATS:
        try:  # podman looks the image up before it checks the format
            found = engine().exists(name)
        except PodmanError as e:
            return _lookup_failed(e)
        if not found:
            raise APIError(404, "%s: image not known" % name, "image not known")
        raise APIError(500, 'unknown format "%s"' % fmt)
    stream = transfers().save([name], fmt, query["compress"])
    try:
        stream.first(client_hung_up())
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
        return _lookup_failed(e)
    raise error(400, e)


@routes.route("GET", "/libpod/images/export", query=EXPORT_MANY, access=policy.EXPORT, transfer="export",
              response=ok(200, "the images as an archive", TAR, BINARY))
def export_images(query):
    refs, fmt = query["references"] or [], query["format"]
    if not refs:
        raise APIError(400, "no references")
    if len(refs) > 1 and fmt != "docker-archive":
        raise APIError(500, "multi-image archives must use format of docker-archive")
    if fmt in DIR_FORMATS and features().dir_export_tar:
        try:
            chunks = transfers().save_dir(refs[0], fmt, query["compress"], cancelled=client_hung_up())
        except PodmanError as e:
            raise error(400, e)
        return _streamed(chunks, TAR_TYPE, chunks.close, chunks.length)
    fmt = {"oci-dir": "oci-archive", "docker-dir": "docker-archive"}.get(fmt, fmt)
    if fmt not in ARCHIVE_FORMATS:
        raise APIError(500, 'unsupported format "%s"' % fmt)
    stream = transfers().save(refs, fmt, query["compress"], query["ociAcceptUncompressedLayers"])
    try:
        stream.first(client_hung_up())
    except PodmanError as e:
        stream.close()
        raise error(400, e)
    except BaseException:
        stream.close()
        raise
    return _streamed(stream, ARCHIVE_TYPE, stream.close)


# -- import --------------------------------------------------------------------


@routes.route("POST", "/libpod/images/load", access=policy.WRITE, transfer="load",
              response=ok(200, "the loaded names", JSON, ANY_OBJECT))
def load():
    try:
        names = transfers().load(request_body(settings().max_body_size))
    except BodyTooLarge as e:
        return too_large(e)
    except PodmanError as e:
        raise internal_server_error(e.wrap("unable to load image"))
    return json_response(200, {"Names": names})


@routes.route("POST", "/libpod/images/import", query=IMPORT, access=policy.WRITE, transfer="import",
              response=ok(200, "the imported image", JSON, ANY_OBJECT))
def import_image(query):
    url = query["URL"]
    try:
        body = url_body(url) if url else request_body(settings().max_body_size)
        image_id = transfers().import_(body, reference=query["reference"], message=query["message"],
                                       changes=query["changes"] or [], os_=query["OS"],
                                       arch=query["Architecture"], variant=query["Variant"])
    except BodyTooLarge as e:
        return too_large(e)
    except PodmanError as e:
        raise internal_server_error(e.wrap("unable to import tarball"))
    return json_response(200, {"Id": image_id})


# -- scp -----------------------------------------------------------------------


@scp_routes.route("POST", "/libpod/images/scp/{name:.*}", query=SCP, access=policy.EXPORT,
                  response=ok(200, "the scp report", JSON, ANY_OBJECT))
def scp(name, query):
    """podman's ``ExecuteTransfer`` argument checks, answered here; a real
    (ssh) transfer only with --allow-scp."""
    refusal = scp_refusal(name, query["destination"])
    if refusal is not None:  # ExecuteTransfer's errors: 500; a local transfer: podman's BadRequest
        raise error(400, refusal) if refusal.kind == UNSUPPORTED else internal_server_error(refusal)
    if not settings().allow_scp:
        raise APIError(403, "image transfers over ssh are disabled on this server (start podproxy with "
                            "--allow-scp)", "scp disabled")
    try:
        image = transfers().scp(name, query["destination"], query["quiet"])
    except PodmanError as e:  # podman's service runs the transfer as a child podman: an *exec.ExitError
        log.info("scp %s to %s failed: %s", name, query["destination"], e.message)
        raise APIError(500, "exit status %s" % e.exit_code) from None
    return json_response(200, {"Id": image})
