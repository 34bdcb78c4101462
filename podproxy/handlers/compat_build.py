"""``POST /build`` as podman serves it to Docker clients (the same
compat/images_build.go handler as ``/libpod/build``, on its non-libpod
paths): any Content-Type is taken for a tar, ``layers`` defaults to true,
``dockerfile`` defaults to ``Dockerfile`` (no Containerfile), ``pull`` (not
``pullpolicy``) picks "always", ``t`` names are normalized to Docker Hub,
images are Docker's format, and a build that is not ``q`` ends with Docker's ``aux`` ID, "Successfully
built ID" and one "Successfully tagged T" per ``t`` as sent.

The context is unpacked as for the libpod route (``api/build``: a private
scratch dir, Python's ``data`` filter, removed on every path).
"""
from __future__ import annotations

import os
import re
import shutil

from flask import Response

from ..engine import scratch
from ..web.bodies import decode_query
from ..web.errors import APIError
from ..web.query import Bool, Query
from ..web.responses import json_line
from ..web.versioned import ByVersion, CompatQuery
from .build import BUILD, _containerfiles, _options, _unpack, error_line, start_build
from .compat_images import resolve

# podman 5.2's CLI checks the Containerfiles itself (3703cbf1d7, #22972); the
# service leaves that to buildah, whose error is os.Stat's
_CLI_NO_FILE = re.compile(r"the specified Containerfile or Dockerfile does not exist, (.*): "
                          r"no such file or directory\Z")
COMPAT_BUILD = CompatQuery(ByVersion(Query(*BUILD.base.params, Bool("pull")), **BUILD.extra))
_ID = re.compile(r"[0-9a-f]{64}\Z")


def build():
    workdir = scratch.mkdtemp("build")
    auth = None
    try:
        context = _unpack(workdir)
        try:  # after the body, as podman does, and without the usual prefix
            query = decode_query(COMPAT_BUILD)
        except APIError as e:
            raise APIError(400, e.cause) from None
        if "dockerfile" in query.present:
            files, _ = _containerfiles(query, context)
        else:
            files = [os.path.join(context, "Dockerfile")]
        tags = query["t"] or []
        opts = _options(query)
        opts.tags = [resolve(t).name for t in tags]
        opts.layers = query["layers"] if "layers" in query.present else True
        opts.pull_policy = "always" if "pull" in query.present and query["pull"] else "missing"
        opts.output_format = "docker"  # only the libpod route reads outputformat
        auth, progress = start_build(context, files, opts)
    except BaseException:
        if auth is not None:
            auth.close()
        shutil.rmtree(workdir, ignore_errors=True)
        raise

    def body():
        try:
            last = ""
            for line in progress:
                last = line
                yield json_line({"stream": line + "\n"})
            if progress.exit_code != 0:
                message = _service_error(progress.error) + "\n"
                yield error_line(message)
                return
            if not query["q"] and _ID.match(last):
                yield json_line({"aux": {"ID": "sha256:" + last}})
                yield json_line({"stream": "Successfully built %s\n" % last[:12]})
                for tag in tags:
                    yield json_line({"stream": "Successfully tagged %s\n" % tag})
        finally:
            progress.close()
            auth.close()
            shutil.rmtree(workdir, ignore_errors=True)

    return Response(body(), status=200, content_type="application/json")


def _service_error(error: str) -> str:
    """The CLI's error as podman's service words it (``_CLI_NO_FILE``)."""
    m = _CLI_NO_FILE.match(error or "")
    return "stat %s: no such file or directory" % m.group(1) if m else error
