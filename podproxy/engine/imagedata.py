"""podman's printed image data as the API's entities: one ``podman images``
row as an ImageSummary, Go times as Unix seconds, ``podman diff`` lines as
archive.Change entries, podman's joined errors split, and the remove report.
Pure functions of podman's output (no podman run here)."""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field

from .podman.errors import Failure, InUse, NotFound, PodmanError


@dataclass
class RemoveReport:
    """``entities.ImageRemoveReport`` plus the error texts."""

    deleted: list = field(default_factory=list)
    untagged: list = field(default_factory=list)
    exit_code: int = 0
    errors: list = field(default_factory=list)

    def failure(self) -> PodmanError | None:
        """The failed removal as an error, typed by podman's exit code (1:
        no such image, 2: in use), its message the joined errors; None when
        podman succeeded."""
        if self.exit_code == 0:
            return None
        kind = {1: NotFound, 2: InUse}.get(self.exit_code, Failure)
        return kind(join_errors(self.errors), self.exit_code)


def join_errors(errors: list) -> str:
    """podman's ``errorhandling.JoinErrors``."""
    if len(errors) == 1:
        return errors[0]
    return "%d errors occurred:\n%s" % (len(errors), "\n".join("\t* " + e for e in errors))


def lines(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.strip()]


def split_errors(message: str) -> list[str]:
    """podman's ``JoinErrors``: one error as is, several as
    ``N errors occurred:\\n\\t* a\\n\\t* b``."""
    head, sep, rest = message.partition(" errors occurred:\n")
    if sep and head.isdigit():
        return [item[len("\t* ") :] if item.startswith("\t* ") else item.strip()
                for item in rest.split("\n") if item.strip()]
    return [message] if message else []


# ``entities.ImageSummary``'s keys in Go's order, and which are omitempty;
# ``_EXTENDED_KEYS`` from podman 5.1 on (Arch, Os, IsManifestList added,
# Names moved: ``versions.list_arch_os``)
_SUMMARY_KEYS = ("Id", "ParentId", "RepoTags", "RepoDigests", "Created", "Size", "SharedSize", "VirtualSize",
                 "Labels", "Containers", "ReadOnly", "Dangling", "Names", "Digest", "History")
_EXTENDED_KEYS = ("Id", "ParentId", "RepoTags", "RepoDigests", "Created", "Size", "SharedSize", "VirtualSize",
                  "Labels", "Containers", "ReadOnly", "Dangling", "Arch", "Digest", "History", "IsManifestList",
                  "Names", "Os")
_OMIT_EMPTY = {"ReadOnly", "Dangling", "Names", "Digest", "History", "Arch", "Os"}
# manifest MIME types of a manifest list (libimage's ``IsManifestList``)
LIST_TYPES = {"application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"}
# ``podman diff`` prints "A /path"; the API's archive.Change kinds
CHANGE_KINDS = {"C": 0, "A": 1, "D": 2}
_GO_TIME = re.compile(r"(-?\d+)-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.\d+)?(Z|[+-]\d\d:\d\d)\Z")


def strip_inspecting(message: str) -> str:
    return message[len("inspecting object: ") :] if message.startswith("inspecting object: ") else message


def unix_seconds(go_time: str) -> int:
    """Go's ``time.Time.Unix()`` of an RFC 3339 time as Go marshals it
    (nanoseconds, offsets, year 1 for the zero time)."""
    m = _GO_TIME.match(go_time)
    if not m:
        raise ValueError("not an RFC 3339 time: %r" % go_time)
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    stamp = calendar.timegm((year, month, day, hour, minute, second))
    zone = m.group(7)
    if zone != "Z":
        sign = -1 if zone[0] == "+" else 1
        stamp += sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    return stamp


def image_summary(row: dict, platform: dict | None = None) -> dict:
    """One ``podman images --format json`` row as the API's ImageSummary:
    ``RepoTags`` is the image's names (the CLI nulls it), Go's key order,
    ``CreatedAt`` (CLI only) dropped, omitempty keys left out when empty.
    With ``platform`` ({"Arch", "Os", "IsManifestList"}, see
    ``ImageEngine.platforms``) the summary is podman 5.1's extended one."""
    summary = {}
    for key in (_SUMMARY_KEYS if platform is None else _EXTENDED_KEYS):
        if key == "RepoTags":
            value = row.get("Names") or None
        elif platform is not None and key in ("Arch", "Os", "IsManifestList"):
            value = platform.get(key)
            if value is None:
                continue
        else:
            value = row.get(key)
        if key in _OMIT_EMPTY and not value:
            continue
        summary[key] = value
    return summary
