"""podman's Docker-compatible routes, as one table in podman's
registration order (register_images.go registers every compat images
route, each as ``/v{version}/...`` and bare, before the libpod ones; the
first match wins). The handlers live in the ``compat_*`` modules.
"""
from __future__ import annotations

from ..security.policy import CONTENT, EXPORT, READ, WRITE
from ..web.routing import RouteTable
from ..web.schemas import ANY_ARRAY, ANY_OBJECT, BINARY, JSON, STRING, TAR, TEXT, ok
from ..web.versioned import CompatQuery
from . import compat_build, compat_system
from . import compat_images as images
from . import compat_registry as registry
from . import compat_transfers as transfers
from .registry import SEARCH

routes = RouteTable("compat")


def _both(methods, path, view, query=None, **kw):
    """Both paths; the query decoded as podman's compat decoder does (``CompatQuery``)."""
    routes.route(methods, path, unversioned=True, query=CompatQuery(query) if query is not None else None,
                 **kw)(view)


# mux .Queries("fromImage", "{fromImage}"): the route needs the key; neither key is a 405
# a pull's status is written before any Content-Type, as podman does: none is sent
CREATED = ok(200, "Docker's JSON progress stream (pull, no Content-Type; or import with fromSrc)", None)
_both("POST", "/images/create", registry.pull, query=registry.PULL, queries=("fromImage",), access=WRITE,
      response=CREATED)
_both("POST", "/images/create", registry.import_, query=registry.IMPORT, queries=("fromSrc",), access=WRITE,
      response=CREATED)
_both("GET", "/images/json", images.list_images, query=images.LIST, access=READ,
      response=ok(200, "Docker image summaries (Id with sha256:)", JSON, ANY_ARRAY))
_both("POST", "/images/load", transfers.load, query=transfers.LOAD, access=WRITE,
      response=ok(200, "a Docker JSON message: {stream: Loaded image: ...}", JSON, ANY_OBJECT))
_both("POST", "/images/prune", images.prune, query=images.PRUNE, access=WRITE,
      response=ok(200, "Docker's ImagesPruneReport", JSON, ANY_OBJECT))
_both("GET", "/images/search", images.search, query=SEARCH, access=WRITE,
      response=ok(200, "Docker search results", JSON, ANY_ARRAY))
_both("DELETE", "/images/{name:.*}", images.remove, query=images.REMOVE, access=WRITE,
      response=ok(200, "[{Deleted: id}..., {Untagged: name}...]", JSON, ANY_ARRAY))
_both("POST", "/images/{name:.*}/push", registry.push, query=registry.PUSH, access=EXPORT,
      response=ok(200, "Docker's JSON progress stream", JSON, ANY_OBJECT))
_both("GET", "/images/{name:.*}/get", transfers.export_image, access=EXPORT,
      response=ok(200, "the image as a docker-archive", TAR, BINARY))
_both("GET", "/images/get", transfers.export_images, query=transfers.EXPORT_MANY, access=EXPORT,
      response=ok(200, "the images as a docker-archive", TAR, BINARY))
_both("GET", "/images/{name:.*}/history", images.history, access=READ,
      response=ok(200, "the image's history", JSON, ANY_ARRAY))
_both("GET", "/images/{name:.*}/json", images.inspect, access=READ,
      response=ok(200, "Docker's ImageInspect", JSON, ANY_OBJECT))
_both("POST", "/images/{name:.*}/tag", images.tag, query=images.TAG, decode_in_handler=True, access=WRITE,
      response=ok(201, "tagged", TEXT, STRING))
_both("POST", "/commit", transfers.commit, query=transfers.COMMIT, access=WRITE,
      response=ok(201, "the new image's Id", JSON, ANY_OBJECT))
_both("POST", "/build", compat_build.build, query=compat_build.COMPAT_BUILD, decode_in_handler=True, access=CONTENT,
      response=ok(200, "Docker's JSON build stream", JSON, ANY_OBJECT))

# register_info.go: /info (and /v{version}/info); no other route overlaps it
_both("GET", "/info", compat_system.info, access=READ,
      response=ok(200, "Docker's Info, from podman info", JSON, ANY_OBJECT))
