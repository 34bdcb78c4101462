"""The libpod images routes that read and remove (libpod/images.go).

Each handler mirrors podman's: decode (done by the dispatcher from the
route's ``Query``), one engine call, podman's status and wrapping of the
error, podman's success encoding.
"""
from __future__ import annotations

from flask import Response

from ..engine.images import RemoveReport
from ..engine.podman.errors import NotFound, PodmanError
from ..gocompat.strconv import go_quote, parse_bool
from ..services import engine, features
from ..web.bodies import form_get
from ..web.errors import APIError, ImageNotFoundOnOtherError
from ..web.query import Bool, Filters, List, Query, Str, _parse_filters, _raw_filters, common_filters, prepare_filters
from ..web.responses import json_response, no_content, text_response
from ..web.routing import RouteTable
from ..web.versioned import ByVersion

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
CHANGES = Query(Str("parent"), Str("diffType"))
DIFF_TYPES = {"": "all", "all": "all", "container": "container", "image": "image"}
BATCH_REMOVE = Query(Bool("all"), Bool("force"), Bool("ignore"), Bool("lookupManifest"), List("images"))


def not_found_answer(err: APIError, unknown: bool) -> APIError:
    """podman's ``utils.ImageNotFound(w, name, err)``: 404 when the image is
    ``unknown``, otherwise 500 (before podman 5.2 followed by a second, 404
    body: ``versions.single_not_found_body``). Returned, for the caller to raise."""
    if unknown:
        return err.with_status(404)
    if features().single_not_found_body:
        return err.with_status(500)
    return ImageNotFoundOnOtherError(err)


def image_not_found(name: str, err: PodmanError) -> APIError:
    """``utils.ImageNotFound(w, name, fmt.Errorf("failed to find image %s: %w", name, err))``:
    unknown when the cause is "image not known"."""
    wrapped = err.wrap("failed to find image %s" % name)
    return not_found_answer(wrapped, wrapped.cause == "image not known")


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

@routes.route("GET", "/libpod/images/{name:.*}/exists")
def exists(name):
    try:
        found = engine().exists(name)
    except PodmanError as e:
        raise e.wrap("failed to find image %s" % name, 404)
    if not found:
        raise APIError(404, "failed to find image %s" % name)
    return no_content()


@routes.route("GET", "/libpod/images/{name:.*}/tree", query=TREE)
def tree(name, query):
    try:
        text = engine().tree(name, query["whatrequires"])
    except NotFound as e:
        raise e.wrap("failed to find image %s" % name, 404)
    except PodmanError as e:
        raise e.wrap("failed to generate image tree for %s" % name, 500)
    return json_response(200, {"Tree": text})


@routes.route("DELETE", "/libpod/images/remove", query=BATCH_REMOVE)
def batch_remove(query):
    """Always 200 with the errors listed. No ``images`` removes every image
    that is not in use, as podman does."""
    report = engine().remove(query["images"] or [], force=query["force"], ignore=query["ignore"],
                             lookup_manifest=query["lookupManifest"])  # all: no names is every image
    return json_response(200, _report(report, report.errors or None))


@routes.route("DELETE", "/libpod/images/{name:.*}", query=REMOVE)
def remove(name, query):
    report = engine().remove([name], force=query["force"], ignore=query.get("ignore", False),
                             lookup_manifest=query["lookupManifest"])
    if report.exit_code == 0:
        return json_response(200, _report(report, []))
    message = _join_errors(report.errors)
    status = {1: 404, 2: 409}.get(report.exit_code, 500)
    raise PodmanError(message, report.exit_code).with_status(status)


def _join_errors(errors: list) -> str:
    """podman's ``errorhandling.JoinErrors``."""
    if len(errors) == 1:
        return errors[0]
    return "%d errors occurred:\n%s" % (len(errors), "\n".join("\t* " + e for e in errors))


@routes.route("POST", "/libpod/images/prune", query=PRUNE)
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
        raise e.with_status(500)
    return json_response(200, reports)


@routes.route("GET", "/libpod/images/{name:.*}/history")
def history(name):
    try:
        layers = engine().history(name)
    except PodmanError as e:
        raise image_not_found(name, e)
    return json_response(200, layers)


@routes.route("GET", "/libpod/images/json", query=LIST)
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
        raise e.with_status(500)
    return json_response(200, summaries)


@routes.route("GET", "/libpod/images/{name:.*}/json")
def inspect(name):
    try:
        data = engine().inspect(name)
    except PodmanError as e:
        raise e.wrap("failed to find image %s" % name, 404)
    return json_response(200, data)


@routes.route("POST", "/libpod/images/{name:.*}/tag")
def tag(name):
    """compat.TagImage: the image is looked up before ``repo`` is checked;
    ``repo``/``tag`` come from ``r.Form.Get``."""
    repo, tag_ = form_get("repo"), form_get("tag") or "latest"
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
            raise e.with_status(500)
        raise image_not_found(name, e)
    return text_response(201, "")


@routes.route("POST", "/libpod/images/{name:.*}/untag")
def untag(name):
    """Reads ``repo``/``tag`` with ``r.Form.Get`` (a form body wins over the
    query, and no decoder: bad values cannot give 400)."""
    repo, tag = form_get("repo"), form_get("tag")
    tags = []
    if not repo and tag:
        raise APIError(400, "repo parameter is required to tag an image")
    if repo:
        tags.append("%s:%s" % (repo, tag or "latest"))
    try:
        engine().untag(name, tags)
    except NotFound as e:
        if "image not known" in e.message:
            raise e.wrap("failed to find image %s" % name, 404)
        raise e.with_status(500)
    except PodmanError as e:
        raise e.with_status(500)
    return text_response(201, "")


@routes.route("GET", "/libpod/images/{name}/changes", query=CHANGES)
@routes.route("GET", "/libpod/containers/{name}/changes", query=CHANGES)
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
        raise e.with_status(500)
    return json_response(200, result)

