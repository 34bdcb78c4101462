"""BuildEngine: ``podman build`` of a context directory podproxy unpacked.

The build's own output (steps, commit, image ID on stdout) and its progress
(stderr: "Getting image source signatures"...) are one stream of lines, as
podman's API merges them; ``Progress`` yields them and keeps the final
``Error: ...`` apart. Options are podman's flags with the values joined.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..gocompat.pullpolicy import build_pull_policy
from .podman.runner import Runner
from .podman.streams import Progress

# the API's outputformat (a MIME type, or a name) -> podman build --format
OUTPUT_FORMATS = {"application/vnd.oci.image.manifest.v1+json": "oci", "oci": "oci",
                  "application/vnd.docker.distribution.manifest.v2+json": "docker", "docker": "docker"}


@dataclass
class BuildOptions:
    """The API's build parameters podproxy passes on (see handlers/build.py)."""

    tags: list = field(default_factory=list)
    quiet: bool = False
    no_cache: bool = False
    pull_policy: str = "missing"
    layers: bool = False
    build_args: dict = field(default_factory=dict)
    labels: list = field(default_factory=list)
    annotations: list = field(default_factory=list)
    target: str = ""
    platforms: list = field(default_factory=list)
    rm: bool = True
    force_rm: bool = False
    squash: bool = False
    output_format: str = ""
    timestamp: int | None = None
    identity_label: bool = True
    omit_history: bool = False
    skip_unused_stages: bool = True
    jobs: int | None = None
    env: list = field(default_factory=list)
    unset_env: list = field(default_factory=list)
    from_image: str = ""
    tls_verify: bool | None = None
    network: bool = False  # RUN steps get a network (else --network=none)
    compat_volumes: bool | None = None  # None: not passed (podman before 5.2 has no --compat-volumes)
    no_hosts: bool = False


def _bool(flag: str, value: bool) -> str:
    return "%s=%s" % (flag, "true" if value else "false")


class BuildEngine:
    def __init__(self, runner: Runner):
        self.runner = runner

    def argv(self, context: str, containerfiles: list[str], opts: BuildOptions, auth=()) -> list[str]:
        args = ["build", *auth, *("--file=" + f for f in containerfiles)]
        args += ["--tag=" + t for t in opts.tags]
        args += [_bool("--layers", opts.layers), _bool("--rm", opts.rm), _bool("--identity-label", opts.identity_label),
                 _bool("--skip-unused-stages", opts.skip_unused_stages)]
        args.append("--pull=" + build_pull_policy(opts.pull_policy))
        for flag, on in (("--quiet", opts.quiet), ("--no-cache", opts.no_cache), ("--force-rm", opts.force_rm),
                         ("--squash", opts.squash), ("--omit-history", opts.omit_history)):
            if on:
                args.append(flag)
        args += ["--build-arg=%s=%s" % kv for kv in opts.build_args.items()]
        args += ["--label=" + label for label in opts.labels]
        args += ["--annotation=" + a for a in opts.annotations]
        args += ["--platform=" + p for p in opts.platforms]
        args += ["--env=" + e for e in opts.env]
        args += ["--unsetenv=" + e for e in opts.unset_env]
        for flag, value in (("--target", opts.target), ("--from", opts.from_image),
                            ("--format", OUTPUT_FORMATS.get(opts.output_format, ""))):
            if value:
                args.append("%s=%s" % (flag, value))
        if opts.timestamp is not None:
            args.append("--timestamp=%d" % opts.timestamp)
        if opts.jobs is not None:
            args.append("--jobs=%d" % opts.jobs)
        if opts.tls_verify is not None:
            args.append(_bool("--tls-verify", opts.tls_verify))
        if opts.compat_volumes is not None:
            args.append(_bool("--compat-volumes", opts.compat_volumes))
        if opts.no_hosts:
            args.append("--no-hosts")
        if not opts.network:
            args.append("--network=none")
        return [*args, "--", context]

    def build(self, context: str, containerfiles: list[str], opts: BuildOptions, auth=()) -> Progress:
        """Start the build; its stdout and stderr come as one line stream."""
        return self.runner.progress(self.argv(context, containerfiles, opts, auth), merge_stdout=True)
