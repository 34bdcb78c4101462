"""ImageEngine: podman's image operations as podman CLI commands.

The only place that knows podman's command lines and output formats. Every
user-supplied name goes after ``--`` (a name that starts with ``-`` stays a
name) and every user-supplied option value is joined to its option
(``--filter=VALUE``), so nothing a client sends can become a podman option.
Methods return plain data or raise the typed errors of ``runner``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from .runner import Completed, Failure, NotFound, PodmanError, Runner, error_message


@dataclass
class RemoveReport:
    """``entities.ImageRemoveReport`` plus the error texts."""

    deleted: list = field(default_factory=list)
    untagged: list = field(default_factory=list)
    exit_code: int = 0
    errors: list = field(default_factory=list)


def _lines(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.strip()]


def _split_errors(message: str) -> list[str]:
    """podman's ``JoinErrors``: one error as is, several as
    ``N errors occurred:\\n\\t* a\\n\\t* b``."""
    head, sep, rest = message.partition(" errors occurred:\n")
    if sep and head.isdigit():
        return [item[len("\t* ") :] if item.startswith("\t* ") else item.strip() for item in rest.split("\n") if item.strip()]
    return [message] if message else []


class ImageEngine:
    def __init__(self, runner: Runner):
        self.runner = runner

    # -- lookups -------------------------------------------------------
    def exists(self, name: str) -> bool:
        """True/False for exit 0/1; other failures (bad reference) raise."""
        result = self.runner.run(["image", "exists", "--", name], ok=(0, 1))
        return result.exit_code == 0

    def tree(self, name: str, whatrequires: bool = False) -> str:
        args = ["image", "tree"]
        if whatrequires:
            args.append("--whatrequires")
        out = self.runner.run([*args, "--", name]).text
        return out[:-1] if out.endswith("\n") else out  # fmt.Println added one

    def inspect(self, name: str) -> dict:
        """``podman image inspect``: the same ImageData the API returns."""
        try:
            result = self.runner.run(["image", "inspect", "--", name])
        except PodmanError as e:
            message = e.message
            if message.startswith("inspecting object: "):
                message = message[len("inspecting object: ") :]
            raise type(e)(message, e.exit_code) from None
        return json.loads(result.stdout)[0]

    def missing(self, names: list[str]) -> list[str]:
        """Errors (``NAME: image not known``...) for the names that do not
        resolve, found with one ``podman image inspect`` of all of them."""
        if not names:
            return []
        result = self.runner.run(["image", "inspect", "--format", "{{.ID}}", "--", *names], ok=range(256))
        if result.exit_code == 0:
            return []
        # podman prints the later misses as "error ..." lines and the first
        # one last, as its "Error: ..." line
        first, later = [], []
        for line in result.stderr.splitlines():
            if line.startswith("Error: inspecting object: "):
                first.append(line[len("Error: inspecting object: ") :])
            elif line.startswith("error inspecting object: "):
                later.append(line[len("error inspecting object: ") :])
        return [e for e in first + later if e.endswith("image not known")]

    def sizes(self) -> dict[str, int]:
        """Image ID -> size, as ``podman images`` reports it."""
        result = self.runner.run(["images", "--all", "--format", "json"])
        return {img["Id"]: img.get("Size", 0) for img in json.loads(result.stdout or b"[]")}

    # -- changes -------------------------------------------------------
    def prune(self, all: bool = False, external: bool = False, filters: list[str] = ()) -> list[dict]:
        """``podman image prune``; sizes come from a listing taken before."""
        sizes = self.sizes()
        args = ["image", "prune", "--force"]
        if all:
            args.append("--all")
        if external:
            args.append("--external")
        args += ["--filter=" + f for f in filters]
        ids = _lines(self.runner.run(args).text)
        return [{"Id": i, "Size": sizes.get(i, 0)} for i in ids]

    def untag(self, name: str, tags: list[str]) -> None:
        self.runner.run(["image", "untag", "--", name, *tags])

    def remove(self, names: list[str], force: bool = False, ignore: bool = False, all: bool = False) -> RemoveReport:
        """``podman image rm``. With no names every image is removed, as the
        API's batch remove does. ``podman image rm -f`` drops "image not
        known" errors that the API reports, so with force (and not ignore)
        the names are looked up first."""
        report = RemoveReport()
        if force and not ignore and names:
            report.errors = self.missing(names)
        args = ["image", "rm"]
        if force:
            args.append("--force")
        if ignore:
            args.append("--ignore")
        if names:
            args += ["--", *names]
        else:
            args.append("--all")
        result: Completed = self.runner.run(args, ok=range(256))
        for line in _lines(result.text):
            kind, _, value = line.partition(": ")
            if kind == "Untagged":
                report.untagged.append(value)
            elif kind == "Deleted":
                report.deleted.append(value)
        if result.exit_code != 0:
            report.errors += _split_errors(error_message(result.stderr))
        codes = {result.exit_code} | ({1} if report.errors and result.exit_code == 0 else set())
        report.exit_code = 2 if 2 in codes else (125 if codes - {0, 1} else (1 if 1 in codes else 0))
        return report


__all__ = ["ImageEngine", "RemoveReport", "PodmanError", "NotFound", "Failure"]
