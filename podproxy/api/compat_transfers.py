"""podman's Docker-compatible routes that move whole images: export
(``/images/{name}/get``, ``/images/get``) and ``/images/load``
(compat/images.go ExportImage, ExportImages, LoadImages).

Same transport as the libpod routes (``api/transfers``): exports stream
podman's stdout as it comes, uploads are saved to a file in a scratch dir
of the command's own and removed whatever happens. podman 4.3.1's compat
load leaves ``$TMPDIR/api_load.tar*`` behind; podproxy leaves nothing.
"""
from __future__ import annotations

from ..engine.runner import PodmanError
from ..errors import APIError
from ..query import Bool, List, Query, Str
from .compat_images import resolve
from .responses import json_response
from .transfers import (
    ARCHIVE_TYPE,
    BodyTooLarge,
    _streamed,
    client_socket,
    request_body,
    settings,
    too_large,
    transfers,
)

EXPORT_MANY = Query(List("names"))
# compat.LoadImages: changes, message and quiet are decoded and ignored
LOAD = Query(Str("message"), Bool("quiet"))


def _stream_save(names: list, on_error):
    stream = transfers().save(names, "docker-archive")
    try:
        stream.first(client_socket())
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
            return e.wrap("failed to find image %s" % name, 404)
        return e.wrap("unable to create tempfile", 500)  # sic: podman's text

    return _stream_save([resolved.name], failed)


def export_images(query):
    """compat.ExportImages: ``names`` repeated, one docker-archive holding
    them all; every failure is 500 with podman's error."""
    names = query["names"] or []
    if not names:
        raise APIError(400, "no images to download")
    resolved = [resolve(n).name for n in names]
    return _stream_save(resolved, lambda e: e.with_status(500))


def load(query):
    """compat.LoadImages: one JSON object, ``{"stream": "Loaded image: a,b"}``
    (every name on one line, joined by commas, as podman writes it)."""
    try:
        names = transfers().load(request_body(settings().max_body_size))
    except BodyTooLarge as e:
        return too_large(e)
    except PodmanError as e:
        raise e.wrap("failed to load image", 500)
    if not names:
        raise APIError(500, "one or more images are required")
    return json_response(200, {"stream": "Loaded image: %s" % ",".join(names)})
