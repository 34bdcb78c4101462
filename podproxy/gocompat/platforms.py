"""buildah's ``parse.Platform``, which podman's build handler runs on each
``platform`` value before building (a bad one is a 400): up to podman 5.1
a split on "/" (buildah 1.28), from 5.2 containerd's ``platforms.Parse``
(buildah 1.36+). ``platform_error`` returns (message, cause) for a bad
specifier, None for a good one; the CLI parses a good one the same way.
"""
from __future__ import annotations

import re

from .gojson import go_quote

_SPECIFIER = r"^[A-Za-z0-9_.-]+$"
_OS_AND_VERSION = r"^([A-Za-z0-9_-]+)(?:\(([A-Za-z0-9_.-]*)\))?$"
KNOWN_OS = {"aix", "android", "darwin", "dragonfly", "freebsd", "hurd", "illumos", "ios", "js", "linux", "nacl",
            "netbsd", "openbsd", "plan9", "solaris", "windows", "zos"}
KNOWN_ARCH = {"386", "amd64", "amd64p32", "arm", "armbe", "arm64", "arm64be", "ppc64", "ppc64le", "loong64", "mips",
              "mipsle", "mips64", "mips64le", "mips64p32", "mips64p32le", "ppc", "riscv", "riscv64", "s390", "s390x",
              "sparc", "sparc64", "wasm"}
_ARCH_ALIASES = {"i386": "386", "x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64", "armhf": "arm",
                 "armel": "arm"}
INVALID_ARGUMENT = "invalid argument"  # containerd's errdefs.ErrInvalidArgument, the chain's end


def _legacy_error(spec: str) -> tuple[str, str] | None:
    """buildah 1.28 (podman 4.3): OS/ARCH[/VARIANT] or "local", nothing checked further."""
    if len(spec.split("/")) in (2, 3) or spec == "local":
        return None
    message = "invalid platform syntax for %s (use OS/ARCH[/VARIANT][,...])" % go_quote(spec)
    return message, message


def _containerd_error(spec: str) -> str | None:
    """containerd platforms.Parse's error text (without the final ': invalid argument')."""
    if "*" in spec:
        return "%s: wildcards not yet supported" % go_quote(spec)
    parts = spec.split("/", 3)
    for i, part in enumerate(parts):
        if i == 0:
            m = re.match(_OS_AND_VERSION, part)
            if m is None:
                return "%s is an invalid OS component of %s: OSAndVersion specifier component must match %s" % (
                    go_quote(part), go_quote(spec), go_quote(_OS_AND_VERSION))
        elif not re.match(_SPECIFIER, part):
            return "%s is an invalid component of %s: platform specifier component must match %s" % (
                go_quote(part), go_quote(spec), go_quote(_SPECIFIER))
    if len(parts) == 1 and m is not None:
        os_name = m.group(1).lower()
        arch = parts[0].lower()
        if os_name in ("macos",) or os_name in KNOWN_OS or _ARCH_ALIASES.get(arch, arch) in KNOWN_ARCH:
            return None
        return "%s: unknown operating system or architecture" % go_quote(spec)
    if len(parts) == 4:
        return "%s: cannot parse platform specifier" % go_quote(spec)
    return None


def platform_error(spec: str, containerd: bool) -> tuple[str, str] | None:
    """(message, cause) of ``parse.Platform(spec)``'s error, or None."""
    if not containerd:
        return _legacy_error(spec)
    spec = spec.strip("/")
    if spec in ("", "local"):
        return None
    err = _containerd_error(spec)
    if err is None:
        return None
    return "invalid platform syntax for --platform=%s: %s: %s" % (go_quote(spec), err, INVALID_ARGUMENT), \
        INVALID_ARGUMENT


def cli_platform(spec: str, containerd: bool) -> str:
    """The ``--platform`` value that makes the CLI parse ``spec`` as the
    handler did: trimmed, and "local" for the empty one (containerd's)."""
    if not containerd:
        return spec
    return spec.strip("/") or "local"
