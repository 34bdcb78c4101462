"""pull's ``compatMode`` (podman 4.8+, ``utils.CompatPull``): Docker's pull
progress stream, rebuilt from the CLI's lines."""
from __future__ import annotations

from flask import Response

from ..engine.registry import BLOB_EVENT
from ..gocompat.reference import IMAGE_ID
from ..security.registry_auth import RegistryAuth
from ..services import services
from ..web.errors import cause_of
from ..web.responses import json_line

# docker/distribution errcode -> its HTTP status (Docker-style pull errors)
_ERRCODE_STATUS = {"unauthorized": 401, "denied": 403, "manifest unknown": 404, "name unknown": 404,
                   "blob unknown": 404, "toomanyrequests": 429, "manifest invalid": 400, "name invalid": 400,
                   "tag invalid": 400, "unsupported": 405}


def registry():
    return services().registry


# the CLI's text ends in a registry error's detail, which the errcode's own
# text (what ``errorhandling.Cause`` finds) prefixes with its code
_ERRCODE_DETAIL = {"manifest unknown": "manifest unknown", "authentication required": "unauthorized",
                   "requested access to the resource is denied": "denied", "repository name not known to registry":
                   "name unknown"}


def _compat_cause(message: str) -> str:
    """``errorhandling.Cause(err).Error()`` of a failed pull's CLI text."""
    for detail, code in _ERRCODE_DETAIL.items():
        if message.endswith(": " + detail):
            return "%s: %s" % (code, detail)
    return cause_of(message)


def compat_pull(reference: str, policy: str, auth: RegistryAuth, **pull_options) -> Response:
    """``utils.CompatPull`` (podman 4.8+ ``compatMode``): Docker's progress
    messages, from containers/image's own account of each blob (a debug
    run's ``BLOB_EVENT`` lines): "Already exists" for a blob it reused,
    "Pulling fs layer" when it starts downloading one and "Download
    complete" when the layers are done, the config likewise, then "Download
    complete" with the image's short ID. An error before any progress sets
    the status (a registry errcode's, else 500) and is ``{"message": cause}``.
    ``pull_options``: ``RegistryEngine.pull``'s (tls_verify, all_tags, os...).
    ``auth`` is closed when the answer ends, however it ends."""
    def event(status, digest):
        return json_line({"status": status, "progressDetail": {}, "id": digest.split(":", 1)[-1][:12]})

    def events(progress):
        """A blob's event once both its "Copying blob" line and its debug
        line came (in either order: they come from different writers)."""
        seen: dict[str, bool] = {}
        announced, decided, downloading = set(), set(), []

        def decide(digest):
            if digest in announced and digest in seen and digest not in decided:
                decided.add(digest)
                if seen[digest]:
                    return [event("Already exists", digest)]
                downloading.append(digest)
                return [event("Pulling fs layer", digest)]
            return []

        for line in progress:
            m = BLOB_EVENT.search(line)
            if m is not None:
                seen.setdefault(m.group(3), bool(m.group(1)))
                yield from decide(m.group(3))
                continue
            kind, _, digest = line.partition(" sha256:")
            digest = digest.split()[0] if digest else ""
            if kind == "Copying blob" and digest:
                announced.add(digest)
                yield from decide(digest)
            elif kind == "Copying config" and digest:  # the layers are in
                for layer in downloading:
                    yield event("Download complete", layer)
                downloading = []
                yield event("Pulling fs layer", digest)
                yield event("Download complete", digest)
        for layer in downloading:
            yield event("Download complete", layer)

    def final(progress, sent):
        if progress.exit_code == 0:
            ids = [ln for ln in progress.stdout.decode("utf-8", "replace").split() if IMAGE_ID.match(ln)]
            if ids:
                return json_line({"status": "Download complete", "progressDetail": {}, "id": ids[0][:12]})
            message = "internal error: no images pulled"
        else:
            message = progress.error
        if not sent:
            return json_line({"message": _compat_cause(message)})
        return json_line({"progressDetail": {}, "errorDetail": {"message": message}, "error": message})

    try:
        if policy in ("missing", "never"):
            image_id, error = registry().local_image(reference)
            if image_id or policy == "never":
                line = json_line({"status": "Download complete", "progressDetail": {}, "id": image_id[:12]}) \
                    if image_id else json_line({"message": cause_of(error)})
                resp = Response((x for x in [line]), status=200 if image_id else 500,
                                content_type="text/plain; charset=utf-8")
                if not image_id:
                    resp.headers.remove("Content-Type")
                auth.close()
                return resp
        progress = registry().pull(reference, auth=auth.options(), blob_events=True, **pull_options)
    except BaseException:
        auth.close()
        raise
    lines = events(progress)
    try:
        first = next(lines, None)
    except BaseException:
        progress.close()
        auth.close()
        raise

    def body():
        try:
            if first is not None:
                yield first
                yield from lines
            yield final(progress, first is not None)
        finally:
            progress.close()
            auth.close()

    if first is None:  # the status depends on the outcome: wait for it
        chunks = list(body())
        status = 200 if progress.exit_code == 0 else \
            _ERRCODE_STATUS.get(_compat_cause(progress.error or "").split(":", 1)[0], 500)
        resp = Response((c for c in chunks), status=status)
        resp.headers.remove("Content-Type")
        return resp
    resp = Response(body(), status=200)
    resp.headers.remove("Content-Type")
    return resp
