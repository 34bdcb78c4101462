"""podman's Docker-compatible routes that move whole images: export
(``/images/{name}/get``, ``/images/get``) and ``/images/load``
(compat/images.go ExportImage, ExportImages, LoadImages).

Same transport as the libpod routes (``api/transfers``): exports stream
podman's stdout as it comes, uploads are saved to a file in a scratch dir
of the command's own and removed whatever happens. podman 4.3.1's compat
load leaves ``$TMPDIR/api_load.tar*`` behind; podproxy leaves nothing.
"""
from __future__ import annotations

import os
import shutil

from ..engine import scratch
from ..engine.podman.errors import PodmanError
from ..services import features
from ..web.errors import APIError
from ..web.query import Bool, List, Query, Str
from ..web.responses import json_response
from .compat_images import resolve
from .errors import error, internal_server_error
from .transfers import (
    ARCHIVE_TYPE,
    _streamed,
    client_hung_up,
    settings,
    transfers,
)
from .uploads import FORM_TYPE, BodyTooLarge, request_body, too_large

EXPORT_MANY = Query(List("names"))
# compat.LoadImages: changes, message and quiet are decoded and ignored
LOAD = Query(Str("message"), Bool("quiet"))


def _stream_save(names: list, on_error):
    stream = transfers().save(names, "docker-archive")
    try:
        stream.first(client_hung_up())
    except PodmanError as e:
        stream.close()
        raise on_error(e) from None
    except BaseException:
        stream.close()
        raise
    return _streamed(stream, ARCHIVE_TYPE, stream.close)


def export_image(name):
    """compat.ExportImage: a docker-archive; an unknown image is 404
    ``failed to find image NAME: ...``, any other failure 500."""
    resolved = resolve(name)

    def failed(e: PodmanError) -> APIError:
        if e.cause == "image not known":
            return error(404, e.wrap("failed to find image %s" % name))
        return internal_server_error(e.wrap("unable to create tempfile"))  # sic: podman's text

    return _stream_save([resolved.name], failed)


def export_images(query):
    """compat.ExportImages: ``names`` repeated, one docker-archive holding
    them all; every failure is 500 with podman's error."""
    names = query["names"] or []
    if not names:
        raise APIError(400, "no images to download")
    resolved = [resolve(n).name for n in names]
    return _stream_save(resolved, internal_server_error)


def load(query):
    """compat.LoadImages: one JSON object, ``{"stream": "Loaded image: a,b"}``
    (every name on one line, joined by commas, as podman writes it)."""
    try:
        names = transfers().load(request_body(settings().max_body_size))
    except BodyTooLarge as e:
        return too_large(e)
    except PodmanError as e:
        raise internal_server_error(e.wrap("failed to load image"))
    if not names:
        raise APIError(500, "one or more images are required")
    return json_response(200, {"stream": "Loaded image: %s" % ",".join(names)})


# compat.CommitContainer: tag defaults to "latest"
COMMIT = Query(Str("author"), List("changes"), Str("comment"), Str("container"), Bool("pause"), Bool("squash"),
               Str("repo"), Str("tag", "latest"))
COMMIT_BODY_LIMIT = 1 << 20  # the container config podman decodes (and ignores)


def _body_error(raw: bytes) -> str | None:
    """What Go's ``json.NewDecoder(r.Body).Decode(&CreateContainerConfig{})``
    says of the body (only its first value is read), or None."""
    import json as _json

    from ..gocompat import gojson

    text = raw.decode("utf-8", "replace").lstrip(" \t\r\n")
    if not text:
        return "EOF"
    try:
        value, _ = _json.JSONDecoder().raw_decode(text)
    except ValueError:
        err = gojson.unmarshal(text, gojson.MAP(gojson.STRING))[1] or "invalid JSON"
        return "unexpected EOF" if err == "unexpected end of JSON input" else err
    if value is not None and not isinstance(value, dict):
        kind = {bool: "bool", str: "string", list: "array"}.get(type(value), "number")
        return "json: cannot unmarshal %s into Go value of type handlers.CreateContainerConfig" % kind
    return None


def commit(query):
    """compat.CommitContainer: podman 4.3 requires a JSON container config
    as the body (decoded and ignored, a 500 if bad); podman 5.0 applies it
    as the libpod route does (``commit_config_body``: a 400 if bad, none is
    fine). Docker's image format; ``repo`` of one character is ignored
    (podman's ``len(repo) > 1``); 201 ``{"Id": id}``."""
    from flask import request

    from ..engine.transfers import Commit
    from .commit import _commit_config, _commit_error

    config = None
    if features().commit_config_body:
        # podman's ParseForm swallows a form body: the decoder then sees none
        config = None if request.mimetype == FORM_TYPE else _commit_config()
    else:
        raw = b"" if request.mimetype == FORM_TYPE else request.stream.read(COMMIT_BODY_LIMIT + 1)
        if len(raw) > COMMIT_BODY_LIMIT:
            raise APIError(413, "request body too large: the limit is %d bytes" % COMMIT_BODY_LIMIT,
                           "request body too large")
        err = _body_error(raw)
        if err is not None:
            raise APIError(500, "Decode(): " + err, err)
    changes = tuple(line for change in query["changes"] or [] for line in change.split("\n"))
    image = ""
    if len(query["repo"]) > 1:
        image = resolve("%s:%s" % (query["repo"], query["tag"])).name
    workdir = scratch.mkdtemp("commit") if config else None
    try:
        if workdir and config:
            with open(os.path.join(workdir, "config.json"), "wb") as f:
                f.write(config)
        options = Commit(container=query["container"], image=image, author=query["author"],
                         message=query["comment"], changes=changes, format="docker", pause=query["pause"],
                         squash=query["squash"], config=os.path.join(workdir, "config.json") if workdir else "")
        try:
            image_id = transfers().commit(options)
        except PodmanError as e:
            raise _commit_error(e) from None
    finally:
        if workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    return json_response(201, {"Id": image_id})
