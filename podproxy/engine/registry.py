"""RegistryEngine: podman pull, push and search as command lines.

Pull and push report progress on stderr: they are started as ``Progress``
runs whose lines the handlers stream. Credentials only ever arrive as an
``--authfile`` path (see registry_auth); every user value is joined to its
option and every reference follows ``--``.
"""
from __future__ import annotations

import json
import re
from collections.abc import Sequence

from ..gocompat.reference import registry_of
from .podman.errors import error_message
from .podman.runner import Runner
from .podman.streams import Progress

# containers/image's copyLayer, per blob: "Skipping blob sha256:X (already present):" where it
# sends the Skipped progress event, else its registry client's "Downloading /v2/NAME/blobs/sha256:X"
BLOB_EVENT = re.compile(r'level=debug msg="(?:(Skipping) blob |(Downloading) /v2/\S*/blobs/)sha256:([0-9a-f]{64})\b')


def _tls_verify_flag(tls_verify: bool | None) -> list[str]:
    """podman applies tlsVerify only when the client sent the key."""
    return [] if tls_verify is None else ["--tls-verify=%s" % ("true" if tls_verify else "false")]


def _retry(retry: int | None, delay: str) -> list[str]:
    """podman 5's ``--retry``/``--retry-delay`` (only when the client sent them)."""
    return (["--retry=%d" % retry] if retry is not None else []) + (["--retry-delay=" + delay] if delay else [])


# ``podman search``'s fields as JSON, one report per line (the CLI's own
# json output regroups --list-tags results and indents)
_SEARCH_FORMAT = ('{"Index":{{json .Index}},"Name":{{json .Name}},"Description":{{json .Description}},'
                  '"Stars":{{json .Stars}},"Official":{{json .Official}},"Automated":{{json .Automated}},'
                  '"Tag":{{json .Tag}}}')


class RegistryEngine:
    def __init__(self, runner: Runner):
        self.runner = runner

    def local_image(self, reference: str) -> tuple[str | None, str]:
        """(ID, "") of the local image ``reference`` names, or (None, podman's error)."""
        result = self.runner.run(["image", "inspect", "--format", "{{.ID}}", "--", reference], ok=range(256))
        if result.exit_code == 0:
            return result.text.strip(), ""
        message = error_message(result.stderr)
        return None, message[len("inspecting object: "):] if message.startswith("inspecting object: ") else message

    def pull(self, reference: str, *, tls_verify: bool | None = None,
             all_tags: bool = False, os: str = "", arch: str = "", variant: str = "",
             auth: Sequence[str] = (), quiet: bool = False, retry: int | None = None,
             retry_delay: str = "", blob_events: bool = False) -> Progress:
        """``podman pull``: progress on stderr, the image IDs on stdout.
        ``blob_events``: also yield containers/image's debug lines that say
        what became of each blob (``BLOB_EVENT``: reused from the store, or
        downloaded), which the CLI's progress lines do not tell."""
        args = ["pull", *_tls_verify_flag(tls_verify), *auth, *_retry(retry, retry_delay)]
        if all_tags:
            args.append("--all-tags")
        for opt, value in (("--os", os), ("--arch", arch), ("--variant", variant)):
            if value:
                args.append("%s=%s" % (opt, value))
        if quiet:
            args.append("--quiet")
        if blob_events:
            return self.runner.progress(["--log-level=debug", *args, "--", reference], keep_logs=BLOB_EVENT)
        return self.runner.progress([*args, "--", reference])

    def push(self, source: str, destination: str, *, tls_verify: bool | None = None, format: str = "",
             compression_format: str = "", remove_signatures: bool = False, auth: Sequence[str] = (),
             quiet: bool = False, compress: bool = False, compression_level: int | None = None,
             retry: int | None = None, retry_delay: str = "", digest_file: str = "") -> Progress:
        """``podman push``; ``digest_file``: where podman writes the pushed
        manifest's digest (a path of ours)."""
        args = ["push", *_tls_verify_flag(tls_verify), *auth, *_retry(retry, retry_delay)]
        if compress:
            args.append("--compress")
        if compression_level is not None:
            args.append("--compression-level=%d" % compression_level)
        if digest_file:
            args.append("--digestfile=" + digest_file)
        if format:
            args.append("--format=" + format)
        if compression_format:
            args.append("--compression-format=" + compression_format)
        if remove_signatures:
            args.append("--remove-signatures")
        if quiet:
            args.append("--quiet")
        return self.runner.progress([*args, "--", source, destination])

    def search(self, term: str, *, limit: int = 0, filters: Sequence[str] = (), list_tags: bool = False,
               tls_verify: bool | None = None, auth: Sequence[str] = ()) -> list[dict]:
        """``podman search``. With ``list_tags`` the CLI only prints JSON
        grouped as {Name, Tags}: the API's one report per tag is rebuilt
        (Index is the registry; the other fields are empty for tag lists)."""
        args = ["search", "--no-trunc", *_tls_verify_flag(tls_verify), *auth]
        if limit:
            args.append("--limit=%d" % limit)
        if list_tags:
            args += ["--list-tags", "--format", "json"]
        else:
            args += ["--format", _SEARCH_FORMAT, *("--filter=" + f for f in filters)]
        out = self.runner.run([*args, "--", term]).text
        if not list_tags:
            return [json.loads(line) for line in out.splitlines() if line.strip()]
        reports = []
        for entry in json.loads(out or "[]") or []:
            for tag in entry.get("Tags") or []:
                reports.append({"Index": registry_of(entry["Name"]), "Name": entry["Name"], "Description": "",
                                "Stars": 0, "Official": "", "Automated": "", "Tag": tag})
        return reports
