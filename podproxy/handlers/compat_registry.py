"""podman's Docker-compatible ``POST /images/create`` (pull with
``fromImage``, import with ``fromSrc``) and ``POST /images/{name}/push``
(compat/images.go CreateImageFromImage, CreateImageFromSrc,
images_push.go PushImage).

Pull and push answer 200 at once and then stream Docker's JSON messages
(``jsonmessage.JSONMessage``: status, progressDetail, id; an error as
``errorDetail``/``error``), with no Content-Type, as podman writes them.
podman builds its per-blob messages from containers/image progress
events; podproxy builds them from the podman CLI's ``Copying blob/config``
lines, sent when podman is done (only then does the store tell which
blobs were reused): one "Pulling fs layer" and one "Download complete" per
blob ("Already exists" for a blob podman did not download), without
podman's timed "Downloading" byte counts; a push has none (podman 4.3.1
sends only its first and last message). The final message is podman's.
podman 4.3.1 leaves ``$TMPDIR/digest.txt*`` behind after every push;
podproxy's digest file lives in a scratch dir removed when the answer ends.
"""
from __future__ import annotations

import os
import re
import shutil

from flask import Response, g, request

from ..engine import scratch
from ..engine.compat import StoreIndex
from ..engine.podman.errors import PodmanError
from ..gocompat import gojson
from ..gocompat.reference import registry_of
from ..gocompat.transports import storage_reference_error
from ..security.registry_auth import RegistryAuth
from ..services import engine, features
from ..web.errors import APIError
from ..web.query import Bool, Int, List, Query, Str
from ..web.responses import json_response
from ..web.versioned import ByVersion
from .compat_images import resolve
from .errors import internal_server_error
from .registry import registry
from .transfers import settings, transfers
from .uploads import BodyTooLarge, request_body, too_large, url_body

# podman 5.0 decodes retry and retryDelay (pull_retry, 7ba23cd6fc): a bad delay is a 400
PULL = ByVersion(Query(Str("fromImage"), Str("tag"), Str("platform")), pull_retry=(Int("retry"), Str("retryDelay")))
# compat.CreateImageFromSrc: "repo" is mistagged (`shchema`), so it decodes by
# its field name, case-insensitively, like the others; podman 4.6 decodes tag too
IMPORT = ByVersion(Query(List("changes"), Str("fromSrc"), Str("message"), Str("platform"), Str("Repo")),
                   compat_import_tag=(Str("tag"),))
PUSH = Query(Bool("all"), Bool("compress"), Str("destination"), Str("format"), Bool("tlsVerify", True), Str("tag"))

_DIGEST = re.compile(r"sha256:[0-9a-f]{64}\Z")
_COPYING = re.compile(r"Copying (blob|config) (?:sha256:)?([0-9a-f]{64})(.*)\Z")


def _message(status: str | None = None, id_: str | None = None, error: str | None = None,
             progress: bool = True) -> bytes:
    """One ``jsonmessage.JSONMessage`` as podman's encoder writes it
    (omitempty; pull messages carry an empty progressDetail, push ones none)."""
    msg: dict = {}
    if status:
        msg["status"] = status
    if progress:
        msg["progressDetail"] = {}
    if id_:
        msg["id"] = id_
    if error is not None:
        msg["errorDetail"] = {"message": error}
        msg["error"] = error
    return (gojson.dumps(msg) + "\n").encode("utf-8")


def _stream(chunks) -> Response:
    """200 before any Content-Type, as podman's handlers write it."""
    resp = Response(chunks, status=200)
    resp.headers.remove("Content-Type")
    return resp


def _merge(name: str, tag_or_digest: str) -> str:
    """``mergeNameAndTagOrDigest``."""
    if not tag_or_digest:
        return name
    return name + ("@" if _DIGEST.match(tag_or_digest) else ":") + tag_or_digest


def _blob_messages(lines, reused):
    """Docker's pull messages from the CLI's ``Copying blob/config`` lines,
    once podman is done: ``reused(digest)`` tells a blob podman did not
    download (see the module doc)."""
    copied = []
    for line in lines:
        m = _COPYING.match(line)
        if m:
            copied.append(m.groups())
    for kind, digest, rest in copied:
        short = digest[:12]
        if "skipped" in rest or (kind == "blob" and reused("sha256:" + digest)):
            yield _message("Already exists", short)
        else:
            yield _message("Pulling fs layer", short)
            yield _message("Download complete", short)


def _auth(reference: str) -> RegistryAuth:
    return RegistryAuth.from_headers(request.headers, g.request_uri, registry_of(reference))


def _retry(query) -> dict:
    """podman 5's retry and retryDelay, passed on only when sent (exact key)."""
    from .registry import _DURATION

    retry = query["retry"] if "retry" in query.present and "retry" in query else None
    delay = query["retryDelay"] if "retryDelay" in query.present and "retryDelay" in query else ""
    if "retryDelay" in query.present and "retryDelay" in query and not _DURATION.match(delay):
        raise APIError(400, "time: invalid duration %s" % gojson.go_quote(delay))
    return {"retry": retry, "retry_delay": delay}


def _status_of(error: str) -> int:
    """podman 4.6+: a registry errcode's HTTP status, else 500."""
    from .pull_compat import _ERRCODE_STATUS, _compat_cause

    return _ERRCODE_STATUS.get(_compat_cause(error or "").split(":", 1)[0], 500)


def pull(query):
    """compat.CreateImageFromImage: policy "always"; ``platform`` is
    os[/arch[/variant]]; the last message names the image ("Download
    complete" with its short ID) or the error. podman 4.6+ (``compat_pull_status``)
    answers an error that comes before any blob with its status (a registry
    errcode's, else 500), 4.8+ (``compat_pull_cause_only``) as
    ``{"message": cause}`` alone."""
    reference = resolve(_merge(query["fromImage"], query["tag"])).name
    auth = _auth(reference)
    os_, arch, variant = (query["platform"].split("/") + ["", "", ""])[:3]
    index = StoreIndex(engine())  # the body runs outside the app context
    f = features()
    try:
        retry = _retry(query)
        known = index.layer_digests()
        progress = registry().pull(reference, os=os_, arch=arch, variant=variant, auth=auth.options(), **retry)
    except BaseException:
        auth.close()
        raise
    lines = iter(progress)
    before: list = []
    try:
        if f.compat_pull_status:  # the status waits for the first blob (podman's first progress event)
            for line in lines:
                before.append(line)
                if _COPYING.match(line):
                    break
    except BaseException:
        progress.close()
        auth.close()
        raise
    early_error = f.compat_pull_status and not any(_COPYING.match(ln) for ln in before) and progress.exit_code
    if early_error:
        try:
            if f.compat_pull_cause_only:
                from .pull_compat import _compat_cause

                chunk = (gojson.dumps({"message": _compat_cause(progress.error or "")}) + "\n").encode("utf-8")
            else:
                chunk = _message(error=progress.error or "")
            resp = _stream(iter([chunk]))
            resp.status_code = _status_of(progress.error)
            return resp
        finally:
            progress.close()
            auth.close()

    def body():
        try:
            done = before + list(lines)
            after = index.compressed_digests() if progress.exit_code == 0 else set()
            # reused: in the store before, or no layer came from that blob
            # (containers/image matched it to a layer it had by its cache)
            # (no index to read, e.g. a remote podman: every blob counts as pulled)
            yield from _blob_messages(done, lambda d: d in known or bool(after and d not in after))
            if progress.exit_code != 0:
                yield _message(error=progress.error)
                return
            ids = [ln for ln in progress.stdout.decode("utf-8", "replace").split() if re.fullmatch(r"[0-9a-f]{64}", ln)]
            if ids:
                yield _message("Download complete", ids[0][:12])
            else:
                yield _message(error="internal error: no images pulled")
        finally:
            progress.close()
            auth.close()

    return _stream(body())


def import_(query):
    """compat.CreateImageFromSrc: ``fromSrc=-`` is the body, anything else
    a URL (only with --allow-url-import, as the libpod import). ``repo``
    is normalized; podman 4.3.1 ignores ``tag``, 4.6+ (``compat_import_tag``)
    names the image repo:tag. One
    JSON object: status and id are the new image's ``sha256:`` ID."""
    source = query["fromSrc"]
    reference = resolve(_merge(query["Repo"], query.get("tag", ""))).name if query["Repo"] else ""
    os_, arch = (query["platform"].split("/") + ["", ""])[:2]
    try:
        body = request_body(settings().max_body_size) if source == "-" else url_body(source)
        image_id = transfers().import_(body, reference=reference, message=query["message"],
                                       changes=query["changes"] or [], os_=os_, arch=arch)
    except BodyTooLarge as e:
        return too_large(e)
    except PodmanError as e:
        raise internal_server_error(e.wrap("unable to import tarball"))
    return json_response(200, {"status": image_id, "progress": "", "progressDetail": {}, "id": image_id})


def push(name, query):
    """compat.PushImage: ``name[:tag]`` must be a local image; the first
    message names the repository, one per blob, then ``TAG: digest: D
    size: N`` (N: the size of the manifest stored with the local image)."""
    image_name = name + (":" + query["tag"] if query["tag"] else "")
    bad = storage_reference_error(image_name)
    if bad:
        raise APIError(400, 'image source "%s" is not a containers-storage-transport reference: %s'
                       % (image_name, bad[0]), bad[1])
    resolved = resolve(image_name)
    image_name = resolved.name
    if resolved.image is None:
        raise APIError(404, "failed to find image %s: %s: image not known" % (image_name, image_name),
                       "image not known")
    image_id = resolved.image["Id"]
    destination = query["destination"] if "destination" in query.present else image_name
    auth = _auth(destination)
    workdir = scratch.mkdtemp("push")
    digestfile = os.path.join(workdir, "digest")
    try:
        size = StoreIndex(engine()).manifest_size(image_id)
        tls = query["tlsVerify"] if "tlsVerify" in query.present else None
        progress = registry().push(image_name, destination, tls_verify=tls, format=query["format"],
                                   compress=query["compress"], auth=auth.options(), digest_file=digestfile)
    except BaseException:
        auth.close()
        shutil.rmtree(workdir, ignore_errors=True)
        raise

    def body():
        try:
            for _ in progress:  # podman sends no per-blob messages for a push (quiet)
                pass
            if progress.exit_code != 0:
                error = progress.error or ""
                if error.endswith("image not known"):
                    error = "An image does not exist locally with the tag: " + image_name
                yield _message(error=error, progress=False)
                return
            try:
                with open(digestfile) as f:
                    digest = f.read()
            except OSError as e:
                yield _message(error=str(e), progress=False)
                return
            yield _message("%s: digest: %s size: %d" % (query["tag"] or "latest", digest, size), progress=False)
        finally:
            progress.close()
            auth.close()
            shutil.rmtree(workdir, ignore_errors=True)

    reference_line = _message("The push refers to repository [%s]" % image_name, progress=False)
    if not features().compat_push_status:  # podman 4.3: 200 and the first line at once
        return _stream(_chain([reference_line], body()))
    # podman 4.6+: the status waits for the outcome (no progress comes before it);
    # a failure is 404 (image unknown) or 500, without the reference line
    chunks = list(body())
    failed = progress.exit_code != 0
    resp = _stream(iter(chunks if failed else [reference_line] + chunks))
    if failed:
        resp.status_code = 404 if (progress.error or "").endswith("image not known") else 500
    return resp


def _chain(*parts):
    for part in parts:
        yield from part
