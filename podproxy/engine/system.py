"""What podman says about itself: ``podman version`` and ``podman info``
(and its containers' states, for Docker's info).

Both are static for the life of the podman binary, so the first answer is
kept (the API headers need the version on every request). A failed call is
not kept: the next request tries again.
"""
from __future__ import annotations

import json
import threading
from typing import Any

from .podman.errors import PodmanError
from .podman.runner import Runner
from .versions import Features

# podman 4.3.1, the API podproxy implements; used only while podman cannot
# be asked (e.g. podman missing), so that a client still sees the headers.
FALLBACK_VERSION: dict[str, Any] = {"APIVersion": "4.3.1", "Version": "4.3.1", "GoVersion": "", "GitCommit": "",
                                   "Built": 0, "OsArch": "linux/amd64", "Os": "linux"}


class SystemEngine:
    def __init__(self, runner: Runner):
        self.runner = runner
        self._lock = threading.Lock()
        self._asking_version = threading.Lock()  # one ``podman version`` at a time
        self._asking_info = threading.Lock()  # one ``podman info`` for the cached answer
        self._version: dict | None = None
        self._info: dict | None = None

    def version(self) -> dict:
        """``podman version --format json``: the server's part when podman
        talks to a remote service (``--url``), else the client's. Asked once:
        requests that come while it is being asked wait for that answer
        (bounded by the runner's timeout) instead of each running podman."""
        if self._version is None:
            with self._asking_version:
                if self._version is None:
                    data = json.loads(self.runner.run(["version", "--format", "json"]).stdout)
                    with self._lock:
                        self._version = data.get("Server") or data["Client"]
        return self._version

    def info(self, cached: bool = False) -> dict:
        """``podman info --format json``; ``cached`` accepts the first answer
        (for the static parts: kernel, conmon, runtime, buildah); while the
        first is being asked, cached callers wait for it."""
        if cached and self._info is not None:
            return self._info
        if cached:
            with self._asking_info:
                if self._info is not None:
                    return self._info
                return self._ask_info()
        return self._ask_info()

    def _ask_info(self) -> dict:
        data = json.loads(self.runner.run(["info", "--format", "json"]).stdout)
        with self._lock:
            self._info = data
        return data

    def probe(self, timeout: float) -> str:
        """Ask ``podman version`` now (never cached), within ``timeout``
        seconds: podman's Version. ``EngineError`` when podman does not
        answer, ``ValueError`` when it printed no JSON."""
        data = json.loads(self.runner.run(["version", "--format", "json"], timeout=timeout).stdout)
        return (data.get("Server") or data.get("Client") or {}).get("Version", "")

    def container_states(self) -> dict:
        """Containers by state (``podman ps --all``), counted; {} when podman fails."""
        try:
            out = self.runner.run(["ps", "--all", "--format", "{{.State}}"]).text
        except PodmanError:
            return {}
        states: dict = {}
        for line in out.split():
            states[line.strip().lower()] = states.get(line.strip().lower(), 0) + 1
        return states

    def features(self) -> Features:
        """The versioned behaviours of the podman podproxy runs (see
        ``versions``); 4.3.1's while podman cannot be asked."""
        try:
            return Features(self.version_or_fallback().get("Version", ""))
        except ValueError:  # a build that prints no release: podman 4.3.1's answers
            return Features(FALLBACK_VERSION["Version"])

    def version_or_fallback(self) -> dict:
        try:
            return self.version()
        except Exception:
            return FALLBACK_VERSION
