"""ImageEngine: podman's image lookups, lists, tag, prune and remove as podman
command lines (transfers, registry and build have engines of their own;
``imagedata`` turns the output into the API's entities). Every
user-supplied name goes after ``--`` (a name that starts with ``-`` stays a
name) and every user-supplied option value is joined to its option
(``--filter=VALUE``), so nothing a client sends can become a podman option.
Methods return plain data or raise the typed errors of ``runner``.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Sequence

from ..gocompat.strconv import go_quote
from .cache import AnswerCache
from .imagedata import (
    CHANGE_KINDS,
    LIST_TYPES,
    RemoveReport,
    image_summary,
    lines,
    split_errors,
    strip_inspecting,
    unix_seconds,
)
from .podman import argv as validate
from .podman.errors import Failure, NotFound, PodmanError, error_message
from .podman.runner import Completed, Runner
from .storefiles import store_file

# what ``platforms`` asks ``podman image inspect`` for, one line per image
_PLATFORM_FORMAT = "{{.ID}} {{.ManifestType}} {{.Os}} {{.Architecture}}"
_DIFF_COMMANDS = {"all": ["diff"], "image": ["image", "diff"], "container": ["container", "diff"]}


class ImageEngine:
    def __init__(self, runner: Runner, cache: AnswerCache | None = None):
        self.runner = runner
        self._store: tuple[str, str] | None = None  # (graphRoot, driver), from ``podman info``
        self._locating = threading.Lock()  # one ``podman info`` for concurrent first lists
        self.cache = cache

    def _read(self, args: list, ok=(0,)) -> Completed:
        """A command that only reads the store: answered by the cache when
        there is one (the same Completed podman gave, never stale)."""
        if self.cache is None:
            return self.runner.run(args, ok=ok)
        return self.cache.run(args, ok=ok)

    # -- lookups -------------------------------------------------------
    def exists(self, name: str) -> bool:
        """True/False for exit 0/1; other failures (bad reference) raise."""
        result = self._read(["image", "exists", "--", validate.reference(name)], ok=(0, 1))
        return result.exit_code == 0

    def tree(self, name: str, whatrequires: bool = False) -> str:
        args = ["image", "tree"]
        if whatrequires:
            args.append("--whatrequires")
        out = self._read([*args, "--", validate.reference(name)]).text
        return out[:-1] if out.endswith("\n") else out  # fmt.Println added one

    def inspect(self, name: str) -> dict:
        """``podman image inspect``: the same ImageData the API returns."""
        try:
            result = self._read(["image", "inspect", "--", validate.reference(name)])
        except PodmanError as e:
            message = e.message
            if message.startswith("inspecting object: "):
                message = message[len("inspecting object: ") :]
            raise type(e)(message, e.exit_code) from None
        return json.loads(result.stdout)[0]

    def not_found_errors(self, names: list[str]) -> list[str]:
        """Errors (``NAME: image not known``...) for the names that do not
        resolve, found with one ``podman image inspect`` of all of them."""
        if not names:
            return []
        result = self.runner.run(["image", "inspect", "--format", "{{.ID}}", "--", *names], ok=range(256))
        if result.exit_code == 0:
            return []
        # podman prints the later misses as "error ..." lines and the first
        # one last, as its "Error: ..." line; podman 4.7 dropped their
        # "inspecting object: " (versions.inspect_error_prefix_gone)
        first, later = [], []
        for line in result.stderr.splitlines():
            if line.startswith("Error: "):
                first.append(strip_inspecting(line[len("Error: ") :]))
            elif line.startswith("error inspecting object: "):
                later.append(line[len("error inspecting object: ") :])
            elif line.endswith(": image not known") and not line.startswith(("time=", "level=")):
                later.append(line)
        return [e for e in first + later if e.endswith("image not known")]

    def sizes(self) -> dict[str, int]:
        """Image ID -> size, as ``podman images`` reports it."""
        result = self.runner.run(["images", "--all", "--format", "json"])
        return {img["Id"]: img.get("Size", 0) for img in json.loads(result.stdout or b"[]")}

    def platforms(self, ids: list[str]) -> dict[str, dict]:
        """Image ID -> {"IsManifestList", "Arch", "Os"} as podman 5.1's list
        fills them (a manifest list has no Arch/Os), from one ``podman image
        inspect`` of all the IDs (the CLI's ``images`` leaves them empty).
        An image podman cannot inspect is left out."""
        if not ids:
            return {}
        result = self._read(["image", "inspect", "--format", _PLATFORM_FORMAT, "--", *ids], ok=range(256))
        found = {}
        for line in lines(result.text):
            image_id, _, rest = line.partition(" ")
            mime, _, rest = rest.partition(" ")
            os_, _, arch = rest.partition(" ")
            is_list = mime in LIST_TYPES
            found[image_id] = {"IsManifestList": is_list} if is_list else \
                {"IsManifestList": False, "Arch": arch, "Os": os_}
        return found

    def summaries(self, include_intermediate: bool = False, filters: Sequence[str] = (),
                  extended: bool = False) -> list[dict]:
        """The API's image list: ``podman images --format json`` has one row
        per tag; the API has one summary per image, in storage order.
        ``extended``: podman 5.1's entries with Arch, Os, IsManifestList."""
        args = ["images", "--format", "json"]
        if include_intermediate:
            args.append("--all")
        args += ["--filter=" + f for f in filters]
        rows = json.loads(self._read(args).stdout or b"[]") or []
        by_id: dict[str, dict] = {}
        for row in rows:
            by_id.setdefault(row["Id"], row)
        order = self.storage_order()
        rank = {image_id: n for n, image_id in enumerate(order)}
        ids = sorted(by_id, key=lambda i: (rank.get(i, len(rank)), by_id[i].get("Created", 0), i))
        if not extended:
            return [image_summary(by_id[i]) for i in ids]
        platforms = self.platforms(ids)
        return [image_summary(by_id[i], platforms.get(i, {})) for i in ids]

    def storage_order(self) -> list[str]:
        """Image IDs in containers/storage's order (the order of its
        ``images.json``, which libimage lists in). No CLI command prints
        that order, so the store's own index is read (read only); [] if
        it is not a local file (then the list falls back to created)."""
        path = self.store_index("images")
        try:
            with open(path, "rb") as f:
                return [image["id"] for image in json.load(f)]
        except (OSError, ValueError, KeyError, TypeError):
            return []

    def store_index(self, kind: str) -> str:
        """The path of the store's ``kind`` index (images, layers), found once from ``podman info``
        (raises as the runner does when podman cannot say)."""
        if self._store is None:
            with self._locating:  # the holder's podman is bounded by the runner's timeout
                if self._store is None:
                    fmt = "{{.Store.GraphRoot}}\n{{.Store.GraphDriverName}}"
                    root, _, driver = self.runner.run(["info", "--format", fmt]).text.strip().partition("\n")
                    self._store = (root, driver)
        return store_file(*self._store, kind)

    def history(self, name: str) -> list[dict]:
        """``podman history`` as the API's HistoryResponse (Unix times)."""
        out = self._read(["history", "--no-trunc", "--format", "{{json .ImageHistoryLayer}}", "--", name]).text
        layers = []
        for line in lines(out):
            layer = json.loads(line)
            layers.append({
                "Id": layer.get("id", ""),
                "Created": unix_seconds(layer.get("created", "0001-01-01T00:00:00Z")),
                "CreatedBy": layer.get("CreatedBy", ""),
                "Tags": layer.get("tags") or None,
                "Size": layer.get("size", 0),
                "Comment": layer.get("comment", ""),
            })
        return layers

    def changes(self, name: str, diff_type: str = "all", parent: str = "") -> list[dict] | None:
        """``podman diff`` (containers or images, as the API's ``all``),
        ``podman image diff`` or ``podman container diff``, against
        ``parent`` when given (podman's second argument): archive.Change
        entries in podman's order, None (Go's nil slice) when there are none."""
        out = self.runner.run([*_DIFF_COMMANDS[diff_type], "--", name, *([parent] if parent else [])]).text
        changes = []
        for line in out.split("\n"):
            kind, _, path = line.partition(" ")
            if kind in CHANGE_KINDS and path:
                changes.append({"Path": path, "Kind": CHANGE_KINDS[kind]})
        return changes or None

    # -- changes -------------------------------------------------------
    def tag(self, name: str, target: str) -> None:
        self.runner.run(["tag", "--", name, target])

    def prune(self, all_images: bool = False, external: bool = False, filters: Sequence[str] = (),
              build_cache: bool = False) -> list[dict]:
        """``podman image prune``; sizes come from a listing taken before.
        ``build_cache``: podman 5.3's ``--build-cache`` (buildah's cache mounts)."""
        sizes = self.sizes()
        args = ["image", "prune", "--force"]
        if all_images:
            args.append("--all")
        if external:
            args.append("--external")
        if build_cache:
            args.append("--build-cache")
        args += ["--filter=" + f for f in filters]
        ids = lines(self.runner.run(args).text)
        return [{"Id": i, "Size": sizes.get(i, 0)} for i in ids]

    def untag(self, name: str, tags: list[str]) -> None:
        validate.reference(name)
        unrepresentable = [t for t in tags if not validate.representable(t)]
        if unrepresentable:  # podman looks the image up, then normalizes the tag
            if not self.exists(name):
                raise NotFound("%s: image not known" % name, 125)
            quoted = go_quote(unrepresentable[0])
            raise Failure("normalizing name %s: normalizing name %s: invalid reference format" % (quoted, quoted), 125)
        self.runner.run(["image", "untag", "--", name, *tags])

    def not_manifest_lists(self, names: list[str]) -> list[str]:
        """The names that are local images but not manifest lists (libimage's
        ``LookupManifest`` refuses to remove those)."""
        refused = []
        for name in names:
            # exit 1: no such list; an image that is not one is an error (125)
            result = self.runner.run(["manifest", "exists", "--", name], ok=range(256))
            if result.exit_code == 0:
                continue
            if "image is not a manifest list" in result.stderr or self.exists(name):
                refused.append(name)
        return refused

    def remove(self, names: list[str], force: bool = False, ignore: bool = False,
               lookup_manifest: bool = False) -> RemoveReport:
        """``podman image rm``. With no names every image is removed, as the
        API's batch remove does. ``podman image rm -f`` drops "image not
        known" errors that the API reports, so with force (and not ignore)
        the names are looked up first. Names outside the reference grammar
        are not passed on: each is podman's ``invalid reference format``
        error, listed first as podman lists it, and the others are removed."""
        report = RemoveReport()
        invalid = [n for n in names if not validate.is_reference(n)]
        if invalid:
            names = [n for n in names if validate.is_reference(n)]
            report.errors = [validate.INVALID_REFERENCE] * len(invalid)
            report.exit_code = 125
            if not names:  # never fall through to "no names" = remove every image
                return report
        if lookup_manifest and names:
            refused = self.not_manifest_lists(names)
            if refused:
                names = [n for n in names if n not in refused]
                report.errors += ["%s: image is not a manifest list" % n for n in refused]
                report.exit_code = 125
                if not names:
                    return report
        if force and not ignore and names:
            report.errors += self.not_found_errors(names)
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
        for line in lines(result.text):
            kind, _, value = line.partition(": ")
            if kind == "Untagged":
                report.untagged.append(value)
            elif kind == "Deleted":
                report.deleted.append(value)
        if result.exit_code != 0:
            report.errors += split_errors(error_message(result.stderr))
        codes = {result.exit_code, report.exit_code} | ({1} if report.errors and result.exit_code == 0 else set())
        report.exit_code = 2 if 2 in codes else (125 if codes - {0, 1} else (1 if 1 in codes else 0))
        return report


__all__ = ["ImageEngine", "RemoveReport", "PodmanError", "NotFound", "Failure"]
