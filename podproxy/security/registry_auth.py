"""``X-Registry-Auth`` / ``X-Registry-Config`` (podman's pkg/auth) as a
private temporary auth file for ``podman --authfile=``.

Credentials never reach a command line or a log: they are written to a
0600 file in a 0700 directory of our own, passed by path, and removed when
the request is done (``close``, on every path).
"""
from __future__ import annotations

import base64
import binascii
import json
import os
import shutil

from ..engine import scratch
from ..web.errors import APIError

AUTH = "X-Registry-Auth"
CONFIG = "X-Registry-Config"


def _decode(header: str):
    """base64.URLEncoding then JSON, as podman decodes the header."""
    if len(header) % 4:
        raise ValueError("unexpected EOF")  # Go's URLEncoding wants the padding
    try:
        raw = base64.b64decode(header.encode("ascii"), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise ValueError("illegal base64 data at input byte 0") from None
    try:
        return json.loads(raw)
    except ValueError as e:  # a JSONDecodeError, or a UnicodeDecodeError (which has no msg)
        raise ValueError("invalid JSON: %s" % getattr(e, "msg", e)) from None


def _entry(conf: dict) -> dict:
    if not isinstance(conf, dict):
        raise ValueError("json: cannot unmarshal into Go value of type types.AuthConfig")
    user, password = conf.get("username") or "", conf.get("password") or ""
    entry = {}
    if user or password:
        entry["auth"] = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
    if conf.get("identitytoken"):
        entry["identitytoken"] = conf["identitytoken"]
    return entry


def normalize_key(key: str) -> str:
    """pkg/auth's normalizeAuthFileKey."""
    stripped = key
    for prefix in ("http://", "https://"):
        if stripped.startswith(prefix):
            stripped = stripped[len(prefix) :]
    if stripped != key:
        stripped = stripped.split("/", 1)[0]
    return "docker.io" if stripped in ("registry-1.docker.io", "index.docker.io") else stripped


class RegistryAuth:
    """The auth file for one request (``path`` None when no header)."""

    def __init__(self, auths: dict | None):
        self.path: str | None = None
        self._dir: str | None = None
        if auths:
            self._dir = scratch.mkdtemp("auth")
            self.path = os.path.join(self._dir, "auth.json")
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                json.dump({"auths": auths}, f)

    @classmethod
    def from_headers(cls, headers, url: str, registry: str, single: bool = True) -> RegistryAuth:
        """The request's credentials; a single (not per-registry) credential
        is filed under ``registry``, the one the request talks to, or
        ignored when ``single`` is false (search uses only the auth file)."""
        name = CONFIG if headers.get(CONFIG) else AUTH if AUTH in headers else None
        if name is None:
            return cls(None)
        value = headers.get(name, "")
        try:
            if value in ("", "null"):
                return cls(None)
            data = _decode(value)
            if not isinstance(data, dict):
                raise ValueError("json: cannot unmarshal %s into Go value" % type(data).__name__)
            is_single = name == AUTH and any(k in data for k in ("username", "password", "identitytoken", "auth",
                                                              "email", "serveraddress", "registrytoken"))
            if is_single:
                if not single:
                    return cls(None)
                auths = {registry: _entry(data)}
            else:
                auths = {normalize_key(k) or registry: _entry(v) for k, v in data.items()}
        except ValueError as e:
            message = 'failed to parse "%s" header for %s: %s' % (name, url, e)
            raise APIError(400, message, str(e)) from None
        return cls({k: v for k, v in auths.items() if v} or None)

    def options(self) -> list[str]:
        return ["--authfile=" + self.path] if self.path else []

    def close(self) -> None:
        if self._dir:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = self.path = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
