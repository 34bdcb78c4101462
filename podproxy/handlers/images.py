"""The libpod images routes that read and remove (libpod/images.go).

Each handler mirrors podman's: decode (done by the dispatcher from the
route's ``Query``), one engine call, podman's status and wrapping of the
error, podman's success encoding.
"""
from __future__ import annotations

from flask import Response

from ..engine import shortnames
from ..engine.images import RemoveReport
from ..engine.podman.errors import NotFound, PodmanError
from ..gocompat.strconv import go_quote, parse_bool
from ..security.policy import READ, WRITE
from ..services import engine, features
from ..web.errors import APIError
from ..web.filters import _parse_filters, _raw_filters, common_filters, prepare_filters
from ..web.query import Bool, Filters, List, Query, Str
from ..web.responses import json_response, no_content, text_response
from ..web.routing import RouteTable
from ..web.schemas import ANY_ARRAY, ANY_OBJECT, JSON, REMOVE_REPORT, STRING, TEXT, ok
from ..web.versioned import ByVersion
from .errors import answer, error, image_not_found, internal_server_error

routes = RouteTable("images")

TREE = Query(Bool("whatrequires"))
PRUNE = ByVersion(Query(
    Bool("all"),
    Bool("external"),
    error_status=500,
    filters=Filters(prepare_filters, status=500, prefix="failed to decode filter parameters for %s", first=True),
), prune_buildcache=(Bool("buildcache"),))
REMOVE = ByVersion(Query(Bool("force"), Bool("lookupManifest")), remove_ignore=(Bool("ignore"),))
# compat.GetImages: fields without schema tags (aliases All/Digests/Filter)
def list_filters(query_keys: set, form_get) -> list[str]:
    """containers/common's ``FiltersFromRequest`` as the running podman
    vendors it (``versions.list_filters_each_value``)."""
    if not features().list_filters_each_value:
        return common_filters(query_keys, form_get)
    raw = _raw_filters(query_keys, form_get)
    return [] if raw is None else ["%s=%s" % kv for kv in _parse_filters(raw, join_slice=False)]

LIST = Query(Bool("All"), Bool("Digests"), Str("Filter"), filters=Filters(list_filters, status=500))
CHANGES = Query(Str("parent"), Str("diffType", enum=("", "all", "container", "image")))
DIFF_TYPES = {"": "all", "all": "all", "container": "container", "image": "image"}
# compat.TagImage / libpod UntagImage read repo and tag with r.Form.Get, no decoder
TAG = Query(Str("repo"), Str("tag"), form=True)
BATCH_REMOVE = Query(Bool("all"), Bool("force"), Bool("ignore"), Bool("lookupManifest"), List("images"))


def _report(report: RemoveReport, errors) -> dict:
    """``LibpodImagesRemoveReport``: Deleted/Untagged omitted when empty."""
    body: dict[str, object] = {}
    if report.deleted:
        body["Deleted"] = report.deleted
    if report.untagged:
        body["Untagged"] = report.untagged
    body["ExitCode"] = report.exit_code
    body["Errors"] = errors
    return body

# Registration order is podman's (register_images.go): first match wins.


@routes.route("GET", "/libpod/images/{name:.*}/exists", access=READ, response=ok(204, "the image exists", None))
def exists(name):
    try:
        found = engine().exists(name)
    except PodmanError as e:
        raise error(404, e.wrap("failed to find image %s" % name))
    if not found:
        raise APIError(404, "failed to find image %s" % name)
    return no_content()


@routes.route("GET", "/libpod/images/{name:.*}/tree", query=TREE, access=READ, response=ok(
    200, "the image's layer tree", JSON, {"type": "object", "properties": {"Tree": STRING}, "required": ["Tree"]}))
def tree(name, query):
    try:
        text = engine().tree(name, query["whatrequires"])
    except NotFound as e:
        raise error(404, e.wrap("failed to find image %s" % name))
    except PodmanError as e:
        raise internal_server_error(e.wrap("failed to generate image tree for %s" % name))
    return json_response(200, {"Tree": text})


@routes.route("DELETE", "/libpod/images/remove", query=BATCH_REMOVE, access=WRITE,
              response=ok(200, "what was removed, with the errors", JSON, REMOVE_REPORT))
def batch_remove(query):
    """Always 200 with the errors listed. No ``images`` removes every image
    that is not in use, as podman does."""
    report = engine().remove(query["images"] or [], force=query["force"], ignore=query["ignore"],
                             lookup_manifest=query["lookupManifest"])  # all: no names is every image
    return json_response(200, _report(report, report.errors or None))


@routes.route("DELETE", "/libpod/images/{name:.*}", query=REMOVE, access=WRITE,
              response=ok(200, "what was removed", JSON, REMOVE_REPORT))
def remove(name, query):
    report = engine().remove([name], force=query["force"], ignore=query.get("ignore", False),
                             lookup_manifest=query["lookupManifest"])
    failure = report.failure()
    if failure is not None:
        raise answer(failure)
    return json_response(200, _report(report, []))


@routes.route("POST", "/libpod/images/prune", query=PRUNE, access=WRITE, response=ok(
    200, "the removed images", JSON, {"type": "array", "nullable": True, "items": {"type": "object"}}))
def prune(query):
    filters = query["filters"]
    all_images = query["all"]
    libpod_filters = []
    if "filters" in query.present:
        if filters.get("all"):
            try:
                all_images = parse_bool(filters["all"][0])
            except ValueError as e:
                raise APIError(500, str(e), "invalid syntax") from None
        filters.pop("dangling", None)  # "not implemented in the libpod side"
        libpod_filters = ["%s=%s" % (k, v[0]) for k, v in filters.items()]
    try:
        reports = engine().prune(all_images=all_images, external=query["external"], filters=libpod_filters,
                                 build_cache=query.get("buildcache", False))
    except PodmanError as e:
        raise internal_server_error(e)
    return json_response(200, reports)


@routes.route("GET", "/libpod/images/{name:.*}/history", access=READ,
              response=ok(200, "the image's history", JSON, ANY_ARRAY))
def history(name):
    try:
        layers = engine().history(name)
    except PodmanError as e:
        raise image_not_found(name, e)
    return json_response(200, layers)


@routes.route("GET", "/libpod/images/json", query=LIST, access=READ,
              response=ok(200, "image summaries", JSON, ANY_ARRAY))
def list_images(query):
    """``digests=true`` is "unsupported": podman logs it and answers 200
    with no body at all (and no Content-Type)."""
    if "digests" in query.present and query["Digests"]:
        resp = Response(b"", status=200)
        resp.headers.remove("Content-Type")
        return resp
    try:
        summaries = engine().summaries(include_intermediate=query["All"], filters=query["filters"],
                                       extended=features().list_arch_os)
    except PodmanError as e:
        raise internal_server_error(e)
    return json_response(200, summaries)


@routes.route("GET", "/libpod/images/{name:.*}/json", access=READ,
              response=ok(200, "ImageData, as podman image inspect", JSON, ANY_OBJECT))
def inspect(name):
    try:
        data = engine().inspect(name)
    except PodmanError as e:
        raise error(404, e.wrap("failed to find image %s" % name))
    return json_response(200, data)


@routes.route("POST", "/libpod/images/{name:.*}/tag", query=TAG, access=WRITE, response=ok(201, "tagged", TEXT, STRING))
def tag(name, query):
    """compat.TagImage: the image is looked up before ``repo`` is checked;
    ``repo``/``tag`` come from ``r.Form.Get``."""
    repo, tag_ = query["repo"], query["tag"] or "latest"
    if not repo:
        try:
            engine().inspect(name)
        except PodmanError as e:
            raise image_not_found(name, e)
        raise APIError(400, "repo parameter is required to tag an image")
    try:
        engine().tag(name, "%s:%s" % (repo, tag_))
    except PodmanError as e:
        if e.message.startswith("normalizing name "):  # the new name is bad
            raise internal_server_error(e)
        raise image_not_found(name, e)
    return text_response(201, "")


@routes.route("POST", "/libpod/images/{name:.*}/untag", query=TAG, access=WRITE,
              response=ok(201, "untagged", TEXT, STRING))
def untag(name, query):
    """Reads ``repo``/``tag`` with ``r.Form.Get`` (a form body wins over the
    query, and no decoder: bad values cannot give 400)."""
    repo, tag = query["repo"], query["tag"]
    tags = []
    if not repo and tag:
        raise APIError(400, "repo parameter is required to tag an image")
    if repo:
        tags.append("%s:%s" % (repo, tag or "latest"))
    try:
        engine().untag(name, tags)
    except NotFound as e:
        if "image not known" in e.message:
            raise error(404, e.wrap("failed to find image %s" % name))
        raise internal_server_error(e)
    except PodmanError as e:
        raise internal_server_error(e)
    return text_response(201, "")


@routes.route("GET", "/libpod/images/{name}/changes", query=CHANGES, access=READ, response=ok(
    200, "file changes against the parent", JSON, {"type": "array", "items": {}, "nullable": True}))
@routes.route("GET", "/libpod/containers/{name}/changes", query=CHANGES, access=READ, response=ok(
    200, "file changes of the container", JSON, {"type": "array", "items": {}, "nullable": True}))
def changes(name, query):
    """compat.Changes: images and containers (diffType), 500 on any miss.
    podman serves it on the containers path too, and the remote ``podman
    image diff`` calls that one (``?difftype=image``).
    ``parent``: the diff against that image or container (``podman diff A B``)."""
    diff_type = DIFF_TYPES.get(query["diffType"])
    if diff_type is None:
        raise APIError(400, "invalid diffType value %s" % go_quote(query["diffType"]))
    try:
        result = engine().changes(name, diff_type, query["parent"])
    except PodmanError as e:
        raise internal_server_error(e)
    return json_response(200, result)


@routes.route("GET", "/libpod/images/{name:.*}/resolve", since="image_resolve", access=READ,
              response=ok(200, "the names a pull would try (podman 5.0+)", JSON, {
                  "type": "object", "properties": {"Names": {"type": "array", "items": {"type": "string"}}}}))
def resolve(name):
    """libpod.ImageResolve (podman 5.0): the names a pull of ``name`` would
    try, from the registries configuration; no podman call, no store."""
    try:
        names = shortnames.resolve(name)
    except shortnames.ResolveError as e:
        raise APIError(400, "resolving %s: %s" % (go_quote(name), e.message), e.cause) from None
    return json_response(200, {"Names": names})
