"""Pull, push and search (libpod/images_pull.go, images_push.go,
compat/images_search.go): the routes that talk to registries (pull's
Docker-style ``compatMode`` stream: ``pull_compat.py``).

Checks podman makes before it starts (parameters, transports, the auth
header, the pull policy) answer with podman's status; after that, pull and
a non-quiet push answer 200 and stream podman's progress as JSON lines,
ending with the result or ``{"error": ...}``, exactly as podman does.
Credentials go to podman only as a temporary auth file (registry_auth).
"""
from __future__ import annotations

import json
import os
import re
import shutil

from flask import Response, g, request

from ..engine import scratch
from ..engine.podman.errors import PodmanError
from ..engine.podman.streams import Progress
from ..gocompat import gojson
from ..gocompat.causes import cause_of
from ..gocompat.pullpolicy import pull_policy
from ..gocompat.reference import IMAGE_ID, registry_of
from ..gocompat.transports import storage_reference_error, transport_error
from ..security.policy import EXPORT, WRITE
from ..security.registry_auth import RegistryAuth
from ..services import features, services
from ..web.errors import APIError
from ..web.query import Bool, Int, Query, Str
from ..web.responses import json_line, json_response, text_response
from ..web.routing import RouteTable
from ..web.schemas import ANY_ARRAY, JSON, ok
from ..web.versioned import ByVersion
from .errors import error
from .pull_compat import compat_pull

# podman registers push first of all image routes (before scp); pull and
# search overlap with no other route, so one table placed first keeps order.
routes = RouteTable("registry")

PULL = ByVersion(Query(Str("reference", required=True), Str("OS"), Str("Arch"), Str("Variant"),
                       Bool("tlsVerify", True), Bool("allTags"),
                       Str("policy", "always", enum=("always", "missing", "never", "newer")), Bool("quiet")),
                 pull_compat_mode=(Bool("compatMode"),), pull_retry=(Int("retry"), Str("retrydelay")))
PUSH = ByVersion(Query(Bool("all"), Str("compressionFormat"), Str("destination"), Str("format"),
                       Bool("removeSignatures"), Bool("tlsVerify", True), Bool("quiet", True)),
                 push_compression_level=(Int("compressionLevel"),), push_retry=(Int("retry"), Str("retryDelay")))
# Go's time.ParseDuration (pull's retrydelay)
_DURATION = re.compile(r"[-+]?(?:0|(?:(?:\d+\.?\d*|\.\d+)(?:ns|us|\u00b5s|\u03bcs|ms|s|m|h))+)\Z")
# compat.SearchImages: fields without schema tags; filters never fail
SEARCH = Query(Str("Term"), Int("Limit"), Str("Filters"), Bool("TLSVerify", True), Bool("ListTags"))

_MULTI_ERROR = re.compile(r"\d+ errors? occurred:\n")


def registry():
    return services().registry


def _tls(query, key="tlsVerify", name="tlsVerify"):
    """podman applies tlsVerify only when the key (exact case) was sent."""
    return query[name] if key in query.present else None


def _auth(reference: str, single: bool = True) -> RegistryAuth:
    return RegistryAuth.from_headers(request.headers, g.request_uri, registry_of(reference), single)


def _stream(progress: Progress, auth: RegistryAuth, last, cleanup=None) -> Response:
    """200 with podman's progress lines, then ``last(progress)``. podman
    writes the status before it sets Content-Type, so there is none.
    ``cleanup`` runs when the answer ends, however it ends."""

    def body():
        try:
            for line in progress:
                yield json_line({"stream": line + "\n"})
            final = last(progress)
            if final:
                yield json_line(final)
        finally:
            progress.close()
            auth.close()
            if cleanup is not None:
                cleanup()

    resp = Response(body(), status=200)
    resp.headers.remove("Content-Type")
    return resp


def _local_pull(reference: str, policy: str) -> dict | None:
    """libimage's "missing" and "never" policies look the name up locally
    first (``podman pull`` has no policy option in 4.3.1): the report when
    that settles it, None when podman must pull."""
    image_id, error = registry().local_image(reference)
    if image_id:
        return {"images": [image_id], "id": image_id}
    return {"error": error} if policy == "never" else None


def _final_only(report: dict) -> Response:
    """One JSON line, chunked as podman sends every streamed answer (a
    generator: werkzeug would give a list a Content-Length)."""
    resp = Response((line for line in [json_line(report)]), status=200)
    resp.headers.remove("Content-Type")
    return resp


def _retry(query) -> dict:
    """podman 5's retry/retrydelay, passed on only when sent (``present``)."""
    retry = query["retry"] if "retry" in query.present and "retry" in query else None
    delay = ""
    for key in ("retrydelay", "retryDelay"):
        if key in query.present and key in query:
            delay = query[key]
    return {"retry": retry, "retry_delay": delay}


def _pull_report(progress: Progress) -> dict:
    """``entities.ImagePullReport`` at the end of a pull."""
    if progress.exit_code != 0:
        return {"error": progress.error}
    ids = [ln for ln in progress.stdout.decode("utf-8", "replace").split() if IMAGE_ID.match(ln)]
    return {"images": ids, "id": ids[-1]} if ids else {}


# podman writes these streams' status before any Content-Type: none is sent
@routes.route("POST", "/libpod/images/pull", query=PULL, access=WRITE, response=ok(
    200, "progress lines, then the pulled IDs (JSON lines, no Content-Type)", None))
def pull(query):
    reference = query["reference"]
    compat = query.get("compatMode", False)
    if compat and query["quiet"]:
        raise APIError(500, "'quiet' and 'compatMode' cannot be used simultaneously")
    if not reference:
        raise APIError(500, "reference parameter cannot be empty")
    bad = transport_error(reference)
    if bad:
        raise APIError(400, bad)
    auth = _auth(reference)
    try:
        policy = pull_policy(query["policy"])
        if policy is None:
            raise APIError(400, "unsupported pull policy %s" % gojson.go_quote(query["policy"]))
        delay = _retry(query)["retry_delay"]
        if "retrydelay" in query and "retrydelay" in query.present and not _DURATION.match(delay):
            message = "time: invalid duration %s" % gojson.go_quote(delay)
            raise APIError(400, message)
        if compat:
            return compat_pull(reference, policy, auth, tls_verify=_tls(query), all_tags=query["allTags"],
                               os=query["OS"], arch=query["Arch"], variant=query["Variant"], **_retry(query))
        if policy in ("missing", "never"):
            report = _local_pull(reference, policy)
            if report is not None:
                auth.close()
                return json_response(200, report) if query["quiet"] else _final_only(report)
        progress = registry().pull(reference, tls_verify=_tls(query),
                                   all_tags=query["allTags"], os=query["OS"], arch=query["Arch"],
                                   variant=query["Variant"], auth=auth.options(), quiet=query["quiet"],
                                   **_retry(query))
    except BaseException:
        auth.close()
        raise
    if not query["quiet"]:
        return _stream(progress, auth, _pull_report)
    try:
        for _ in progress:
            pass
        return json_response(200, _pull_report(progress))
    finally:
        progress.close()
        auth.close()


@routes.route("POST", "/libpod/images/{name:.*}/push", query=PUSH, access=EXPORT,
              response=ok(200, "push progress (JSON lines, no Content-Type)", None))
def push(name, query):
    bad = storage_reference_error(name)
    if bad:
        raise APIError(400, *bad)
    destination = query["destination"] or name
    bad_destination = transport_error(destination)
    if bad_destination:
        raise APIError(400, bad_destination)
    auth = _auth(destination)
    digest_dir = scratch.mkdtemp("digest") if not query["quiet"] and features().push_manifest_digest else None
    digest_file = os.path.join(digest_dir, "digest") if digest_dir else ""
    level = query.get("compressionLevel") if "compressionLevel" in query.present else None
    try:
        progress = registry().push(name, destination, tls_verify=_tls(query), format=query["format"],
                                   compression_format=query["compressionFormat"],
                                   remove_signatures=query["removeSignatures"], auth=auth.options(),
                                   quiet=query["quiet"], compression_level=level, digest_file=digest_file,
                                   **_retry(query))
    except BaseException:
        auth.close()
        if digest_dir:
            shutil.rmtree(digest_dir, ignore_errors=True)
        raise
    if not query["quiet"]:
        def last(p):
            """``ImagePushStream`` at the end: the error, or (4.6+) the digest."""
            try:
                if p.exit_code != 0:
                    return {"error": p.error}
                if digest_file:
                    with open(digest_file, encoding="utf-8") as f:
                        return {"manifestdigest": f.read().strip()}
                return None
            finally:
                if digest_dir:
                    shutil.rmtree(digest_dir, ignore_errors=True)
        return _stream(progress, auth, last, cleanup=(lambda: shutil.rmtree(digest_dir, ignore_errors=True))
                       if digest_dir else None)
    try:
        for _ in progress:
            pass
        if progress.exit_code != 0:
            raise error(400, progress.failure().wrap('pushing image "%s"' % destination))
        return text_response(200, "")
    finally:
        progress.close()
        auth.close()


def _search_filters(raw: str) -> list[str]:
    """podman's map[string][]string converter: bad JSON is ignored."""
    try:
        parsed = json.loads(raw) if raw else {}
    except ValueError:
        return []
    if not isinstance(parsed, dict):
        return []
    return ["%s=%s" % (k, v[0]) for k, v in parsed.items() if isinstance(v, list) and v and isinstance(v[0], str)]


@routes.route("GET", "/libpod/images/search", query=SEARCH, access=WRITE,
              response=ok(200, "search results", JSON, ANY_ARRAY))
def search(query):
    term = query["Term"]
    with _auth(term, single=features().search_single_credential) as auth:
        try:
            reports = registry().search(term, limit=query["Limit"], filters=_search_filters(query["Filters"]),
                                        list_tags=query["ListTags"], tls_verify=_tls(query, name="TLSVerify"),
                                        auth=auth.options())
        except PodmanError as e:
            message = e.message + "\n\n" if _MULTI_ERROR.match(e.message) else e.message
            raise APIError(500, message, _search_cause(e.message)) from None
    return json_response(200, reports)



def _search_cause(message: str) -> str:
    """go-multierror unwraps into its error when it holds one; with several
    the chain ends at the last one, whole."""
    items = message.rstrip("\n").split("\n\t* ")
    return cause_of(items[1]) if len(items) == 2 else items[-1]
