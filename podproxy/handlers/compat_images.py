"""podman's Docker-compatible image routes that read, tag and remove
(compat/images.go, images_history.go, images_tag.go, images_remove.go).

Each route is served with and without ``/v{version}``, as podman registers
them; the table is in podman's registration order (register_images.go,
compat routes before libpod ones). Every name goes through podman's
``NormalizeToDockerHub`` first (``CompatEngine.resolve``).
"""
from __future__ import annotations

from ..engine.compat import CompatEngine, Resolved, Unresolvable, image_inspect
from ..engine.imagedata import _EXTENDED_KEYS, join_errors
from ..engine.podman.errors import PodmanError
from ..services import engine, features
from ..web.bodies import decode_query
from ..web.errors import APIError
from ..web.filters import common_filters, prepare_filters
from ..web.query import Bool, Filters, Query, Str, Values
from ..web.responses import json_response, text_response
from ..web.versioned import ByVersion
from .errors import error, image_not_found, internal_server_error
from .images import TAG

# compat.GetImages: fields without schema tags (aliases All/Digests/Filter)
LIST = Query(Bool("All"), Bool("Digests"), Str("Filter"), filters=Filters(common_filters, status=500))
# podman 5.4 decodes ignore too (remove_ignore): a missing image is then 200 []
REMOVE = ByVersion(Query(Bool("force"), Bool("noprune")), remove_ignore=(Bool("ignore"),))


def compat() -> CompatEngine:
    return CompatEngine(engine())


def resolve(name: str) -> Resolved:
    """``NormalizeToDockerHub`` with podman's 500 on failure."""
    try:
        return compat().resolve(name)
    except Unresolvable as e:
        raise APIError(500, "normalizing image: " + e.message, e.message) from None


def list_images(query):
    """The libpod list plus ``reference=<Filter>`` (Docker 1.24) and
    ``manifest=false``, IDs with ``sha256:``. ``digests=true`` answers 200
    with no body at all, as podman does (it only logs "unsupported")."""
    if "digests" in query.present and query["Digests"]:
        from flask import Response

        resp = Response(b"", status=200)
        resp.headers.remove("Content-Type")
        return resp
    filters = list(query["filters"])
    if query["Filter"]:
        filters.append("reference=" + query["Filter"])
    filters.append("manifest=false")
    try:
        summaries = engine().summaries(include_intermediate=query["All"], filters=filters)
    except PodmanError as e:
        raise internal_server_error(e)
    for summary in summaries:
        summary["Id"] = "sha256:" + summary["Id"]
    if features().list_arch_os:  # podman 5.1's struct order, without the libpod-only fields
        summaries = [{k: s[k] for k in _EXTENDED_KEYS if k in s} for s in summaries]
    return json_response(200, summaries)


def remove(name, query):
    """compat.RemoveImage: a list of ``{"Deleted": id}`` then
    ``{"Untagged": name}``; ``noprune`` is accepted and ignored."""
    resolved = resolve(name)
    report = engine().remove([resolved.name], force=query["force"], ignore=query.get("ignore", False))
    if report.exit_code != 0:
        first = report.errors[0] if report.errors else join_errors(report.errors)
        err = PodmanError(first, report.exit_code)
        if err.cause == "image not known":
            raise error(404, err.wrap("failed to find image %s" % name))
        if err.cause == "image is in use by a container":
            raise error(409, err.wrap("image %s is in use" % name))
        raise internal_server_error(err)
    return json_response(200, [{"Deleted": d} for d in report.deleted] + [{"Untagged": u} for u in report.untagged])


def history(name):
    """compat.HistoryImage: the image's layers (the libpod history).

    podman 4.6+ prefixes every Id with ``sha256:`` (``<missing>`` too)."""
    resolved = resolve(name)
    try:
        layers = engine().history(resolved.name)
    except PodmanError as e:
        raise image_not_found(resolved.name, e)
    if features().compat_history_sha256:
        for layer in layers:
            layer["Id"] = "sha256:" + layer["Id"]
    return json_response(200, layers)


def inspect(name):
    """compat.GetImage: Docker's ImageInspect; "image not known" becomes
    "No such image" in the message (docker-py looks for it), 404."""
    resolved = resolve(name)
    if resolved.image is None:
        message = "failed to find image %s: %s: No such image" % (name, resolved.name)
        raise APIError(404, message)
    return json_response(200, image_inspect(resolved.image, container_last=features().compat_inspect_container_last))


def tag(name):
    """compat.TagImage: the image is looked up first, then ``repo`` is
    required (``TAG`` is decoded after the lookup: ``decode_in_handler``);
    the new name is normalized too (``x`` -> ``docker.io/library/x:latest``)."""
    resolved = resolve(name)
    if resolved.image is None:
        raise APIError(404, "failed to find image %s: %s: image not known" % (name, resolved.name), "image not known")
    query = decode_query(TAG)
    repo, tag_ = query["repo"], query["tag"] or "latest"
    if not repo:
        raise APIError(400, "repo parameter is required to tag an image")
    target = resolve("%s:%s" % (repo, tag_))
    try:
        engine().tag(resolved.image["Id"], target.name)
    except PodmanError as e:
        raise internal_server_error(e)
    return text_response(201, "")


# compat.PruneImages: util.PrepareFilters, errors 500 with this prefix
PRUNE = Query(filters=Filters(prepare_filters, status=500, prefix="failed to parse parameters for %s", first=True))


def prune(query):
    """compat.PruneImages: dangling images only (podman adds
    ``dangling=true``, so Docker's ``dangling=false`` from ``image prune
    -a`` is podman 4.3's 500 "filter more than once"; from 4.8 a client's
    own ``dangling`` filter replaces podman's); Docker's prune report."""
    filters = ["%s=%s" % (k, v) for k, values in query["filters"].items() for v in values]
    own_dangling = features().compat_prune_dangling_filter and "dangling" in query["filters"]
    try:
        reports = engine().prune(all_images=own_dangling, filters=filters)
    except PodmanError as e:
        raise internal_server_error(e)
    return json_response(200, {"ImagesDeleted": [{"Deleted": r["Id"]} for r in reports],
                               "SpaceReclaimed": sum(r["Size"] for r in reports)})


def search(query):
    """compat.SearchImages (the libpod handler) with two compat
    differences: Docker's filter form ``{"stars":{"3":true}}`` is read
    (podman 4.3.1 panics on it: 500 "index out of range"), and no result
    is podman's 404 "image not known"."""
    from . import registry as registry_api

    values = Values(query)
    values.present = query.present
    values["Filters"] = _docker_search_filters(query["Filters"])
    resp = registry_api.search(values)
    if resp.get_data() == b"[]\n":
        raise APIError(404, "image not known")
    return resp


def _docker_search_filters(raw: str) -> str:
    """``{"k":{"v":true}}`` -> ``{"k":["v"]}``; anything else unchanged."""
    import json

    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        return raw
    if not isinstance(parsed, dict) or not all(isinstance(v, dict) for v in parsed.values()):
        return raw
    return json.dumps({k: [v for v, on in m.items() if on is True] for k, m in parsed.items() if any(m.values())})
