"""Every answer that differs between podman releases, in one table.

podproxy answers as the podman it runs answers. ``BEHAVIOURS`` lists each
difference with the release that introduced it and the containers/podman
commit and pull request (checked in podman's history); ``Features`` answers
"does the running podman do X?" from ``podman version``, so that code asks
``features.list_arch_os`` and never compares versions itself. Supporting a
new podman release that changes an answer is one row here plus the code
that row switches.
"""
from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Behaviour:
    """One versioned behaviour: on from ``since`` (major, minor, patch) on."""

    name: str
    since: tuple
    source: str  # containers/podman commit (PR)
    summary: str


BEHAVIOURS = (
    Behaviour("build_no_file_ends", (4, 5, 0), "83a0e97ab8 (#17364)",
              "a build without Containerfile/Dockerfile answers its 400 alone (4.3 went on building)"),
    Behaviour("search_single_credential", (4, 5, 0), "82f2f8258c (#17600)",
              "search uses a single (not per-registry) X-Registry-Auth credential; 4.3 ignored it"),
    Behaviour("dir_export_tar", (4, 6, 0), "d01ae436ee (#18563)",
              "/images/export with format=oci-dir|docker-dir answers a tar of the directory layout "
              "(application/x-tar), no longer a docker-archive"),
    Behaviour("push_compression_level", (4, 6, 0), "bb932cc840 (#18940)",
              "push decodes compressionLevel (an int: a bad value is a 400)"),
    Behaviour("push_manifest_digest", (4, 6, 0), "1f1525f2e1 (#18284)",
              "a streamed push ends with {\"manifestdigest\": DIGEST}"),
    Behaviour("inspect_error_prefix_gone", (4, 7, 0), "b6e636cbe2 (#19029)",
              "podman image inspect's errors lost 'inspecting object: '"),
    Behaviour("pull_compat_mode", (4, 8, 0), "8b46e852ef (#20328)",
              "pull compatMode=true answers Docker's progress stream (and Docker-style errors)"),
    Behaviour("commit_stream", (4, 8, 0), "af0ef47f0c (#20377)",
              "commit stream=true answers the build-results stream {\"stream\": ...}"),
    Behaviour("commit_failure_prefix_gone", (4, 8, 0), "af0ef47f0c (#20377)",
              "commit errors are no longer prefixed 'CommitFailure: '"),
    Behaviour("image_resolve", (5, 0, 0), "b028f6aa75 (#21455)",
              "GET /libpod/images/{name}/resolve (before: no such route, 405 as mux answers)"),
    Behaviour("commit_config_body", (5, 0, 0), "426db6fcc1 (#20657)",
              "commit applies a JSON config (Env, Labels, Cmd, ...) sent as the body"),
    Behaviour("pull_retry", (5, 0, 0), "7ba23cd6fc (#21659)",
              "pull decodes retry and retrydelay"),
    Behaviour("push_retry", (5, 0, 0), "c3c0c4ab96 (#21774)",
              "push decodes retry and retryDelay"),
    Behaviour("build_faccessat", (5, 1, 0), "bd00c6fef9 (#22334)",
              "that 400 names faccessat (fileutils.Exists), no longer stat"),
    Behaviour("build_platform_containerd", (4, 6, 0), "1c5ab9e7bf (#18411, buildah 1.30)",
              "build platform values are parsed by containerd's platforms.Parse (trimmed of '/', '' is the "
              "host's; errors end in 'invalid argument'); before, OS/ARCH[/VARIANT] or local"),
    Behaviour("build_platform_list", (5, 2, 0), "a3d5842746 (#23103)",
              "a single build platform value is a comma-separated list, as Docker's API sends it"),
    Behaviour("build_compat_volumes", (5, 2, 0), "a8f4c12003 (#23440, in 5.2.0-rc3)",
              "build decodes compatvolumes (a bool: a bad value is a 400) for podman build --compat-volumes"),
    Behaviour("build_no_hosts", (5, 4, 0), "dc564257a2 (#21062)",
              "build decodes nohosts (a bool: a bad value is a 400) for podman build --no-hosts"),
    Behaviour("list_filters_each_value", (5, 0, 0), "7c8c945496 (c/common v0.58 FiltersFromRequest)",
              "list filters: each value of a key is a filter of its own (labels AND, references OR); "
              "before, the values were joined into one (\"label=a=b\")"),
    Behaviour("list_arch_os", (5, 1, 0), "08a49389c8 (#22266)",
              "list entries carry Arch, Os, IsManifestList (and Go's key order changes)"),
    Behaviour("single_not_found_body", (5, 2, 0), "6408a05927 (#22715)",
              "ImageNotFound writes one 500 body, no longer a second 404 body"),
    Behaviour("prune_buildcache", (5, 3, 0), "901f621daa (#23846)",
              "prune decodes buildcache (a bad value is a 500)"),
    Behaviour("remove_ignore", (5, 4, 0), "5181becfde (#24678)",
              "DELETE /libpod/images/{name} decodes ignore: a missing image is 200 with no errors"),
    # the Docker-compatible routes (handlers/compat_*)
    Behaviour("compat_runtimes_wasm_youki_ocijail", (4, 4, 0), "6fe64591d6 (#16202)",
              "compat /info Runtimes: c/common's defaults gained youki and ocijail (and crun-wasm, 5df00c6f79)"),
    Behaviour("compat_history_sha256", (4, 6, 0), "edaf3b4d5e (#18327)",
              "compat history: each Id is \"sha256:\"-prefixed"),
    Behaviour("compat_import_tag", (4, 6, 0), "ad8d0e57d7 (#18598)",
              "compat import (fromSrc) names the image repo:tag (4.3 ignored tag)"),
    Behaviour("compat_pull_status", (4, 6, 0), "63dfe842bb (#18954)",
              "compat pull: an error before any progress sets the status (a registry errcode's, else 500)"),
    Behaviour("compat_push_status", (4, 6, 0), "d545418945 (#18954)",
              "compat push: an error before any progress sets the status (404 image unknown, else 500), "
              "without the \"The push refers to\" line"),
    Behaviour("compat_error_body_flushed", (4, 6, 0), "0ee19f08cf (#18983)",
              "compat errors answered from podman's buffered writer (/build before the build) keep their body"),
    Behaviour("compat_docker_bools", (4, 7, 0), "f33b01b731 (#19591)",
              "compat routes decode booleans as Docker's BoolValue: anything but \"\", 0, no, false, none "
              "is true (never a 400)"),
    Behaviour("compat_pull_cause_only", (4, 8, 0), "b9f2c4d171 (#20239)",
              "compat pull: an error before any progress is {\"message\": cause} alone"),
    Behaviour("compat_prune_dangling_filter", (4, 8, 0), "c13b8e3c9c (#20481)",
              "compat prune: a client's dangling filter replaces podman's dangling=true (prune -a works)"),
    Behaviour("compat_runtime_crun_vm", (5, 0, 0), "7c8c945496 (#21260)",
              "compat /info Runtimes: c/common v0.58's defaults gained crun-vm"),
    Behaviour("compat_info_docker25", (5, 0, 0), "3e6bfb6e99 (#21322)",
              "compat /info (docker v25 types): KernelMemory(TCP) omitted when false, CDISpecDirs added"),
    Behaviour("compat_inspect_container_last", (5, 1, 0), "ffb8b2dc36 (#22163)",
              "compat image inspect: Container moves to the end (podman's own field after Docker's)"),
)

_BY_NAME = {b.name: b for b in BEHAVIOURS}
_VERSION = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")


def parse_version(text: str) -> tuple:
    """"5.4.2" / "5.4.2+ds1" / "4.3.1-dev" -> (5, 4, 2); ValueError if no version."""
    m = _VERSION.match(text or "")
    if not m:
        raise ValueError("not a podman version: %r" % text)
    return tuple(int(g or 0) for g in m.groups())


class Features:
    """The behaviours of one podman release: ``features.NAME`` is True when
    that release has the behaviour ``NAME`` of ``BEHAVIOURS``."""

    def __init__(self, version: str):
        self.version = parse_version(version)

    def has(self, name: str) -> bool:
        return self.version >= _BY_NAME[name].since

    def __getattr__(self, name: str) -> bool:
        if name.startswith("_") or name not in _BY_NAME:
            raise AttributeError(name)
        return self.has(name)

    def __repr__(self):
        return "Features(%s)" % ".".join(map(str, self.version))
