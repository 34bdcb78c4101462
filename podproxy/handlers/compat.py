"""podman's Docker-compatible routes, as one table in podman's
registration order (register_images.go registers every compat images
route, each as ``/v{version}/...`` and bare, before the libpod ones; the
first match wins). The handlers live in the ``compat_*`` modules.
"""
from __future__ import annotations

from ..web.routing import RouteTable
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
_both("POST", "/images/create", registry.pull, query=registry.PULL, queries=("fromImage",))
_both("POST", "/images/create", registry.import_, query=registry.IMPORT, queries=("fromSrc",))
_both("GET", "/images/json", images.list_images, query=images.LIST)
_both("POST", "/images/load", transfers.load, query=transfers.LOAD)
_both("POST", "/images/prune", images.prune, query=images.PRUNE)
_both("GET", "/images/search", images.search, query=SEARCH)
_both("DELETE", "/images/{name:.*}", images.remove, query=images.REMOVE)
_both("POST", "/images/{name:.*}/push", registry.push, query=registry.PUSH)
_both("GET", "/images/{name:.*}/get", transfers.export_image)
_both("GET", "/images/get", transfers.export_images, query=transfers.EXPORT_MANY)
_both("GET", "/images/{name:.*}/history", images.history)
_both("GET", "/images/{name:.*}/json", images.inspect)
_both("POST", "/images/{name:.*}/tag", images.tag)
_both("POST", "/commit", transfers.commit, query=transfers.COMMIT)
_both("POST", "/build", compat_build.build)

# register_info.go: /info (and /v{version}/info); no other route overlaps it
_both("GET", "/info", compat_system.info)
