"""What podman's Docker-compatible handlers do to names and image data
before and after the libpod work: ``utils.NormalizeToDockerHub`` and
``handlers.ImageDataToImageInspect``, on top of ``ImageEngine``.

podman (``compat_api_enforce_docker_hub``, on by default) resolves every
name a compat route receives: a local image found by an ID prefix becomes
its full ID; any other name becomes ``reference.ParseNormalizedNamed`` of the
name it resolved to (``nope`` -> ``docker.io/library/nope``), so a compat
``tag`` of ``x`` names ``docker.io/library/x:latest``. A lookup that fails
for another reason than "image not known" is an ``Unresolvable`` error.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..gocompat.reference import parse_normalized_named
from ..gocompat.strconv import go_quote
from .images import ImageEngine
from .podman.errors import Failure, PodmanError

_INSPECT_PREFIX = "normalizing name for compat API: "


class Unresolvable(Failure):
    """``NormalizeToDockerHub`` failed: the message is podman's inner error
    (``normalizing name for compat API: ...``); handlers wrap it."""


@dataclass
class Resolved:
    """A compat name after ``NormalizeToDockerHub``: ``name`` is what podman
    goes on with; ``image`` is ``podman image inspect``'s data when the
    name was found (None when it is not known locally)."""

    name: str
    image: dict | None


def _candidate(name: str, names: list) -> str:
    """The image name a short name resolved to (libimage's candidate): an
    exact name, a ``localhost/`` or Docker Hub spelling, or a name ending
    in ``/name``; ``name`` itself when none is."""
    tagged = name if ("@" in name or ":" in name.rsplit("/", 1)[-1]) else name + ":latest"
    wanted = [tagged, "localhost/" + tagged, "docker.io/" + tagged, "docker.io/library/" + tagged]
    for want in wanted:
        if want in names:
            return want
    for full in names:
        if full.endswith("/" + tagged):
            return full
    return name


class CompatEngine:
    """The compat-only steps; the podman work itself is ``ImageEngine``'s."""

    def __init__(self, images: ImageEngine):
        self.images = images

    def resolve(self, name: str) -> Resolved:
        """``NormalizeToDockerHub``: one ``podman image inspect`` (answered
        by the cache when there is one). Raises ``Unresolvable``."""
        try:
            data = self.images.inspect(name)
        except PodmanError as e:
            if not e.message.endswith("image not known"):
                message = _INSPECT_PREFIX + e.message
                raise Unresolvable(message, e.exit_code, message) from None
            data = None
        if data is not None:
            image_id = data.get("Id", "")
            short = name[len("sha256:") :] if name.startswith("sha256:") else name
            if image_id.startswith(short):
                return Resolved(image_id, data)
            candidate = _candidate(name, list(data.get("RepoTags") or []))
        else:
            candidate = name
        try:
            return Resolved(parse_normalized_named(candidate), data)
        except ValueError as e:
            message = "normalizing name %s (orig: %s) for compat API: %s" % (
                go_quote(candidate), go_quote(name), e)
            raise Unresolvable(message, 125, message) from None


def _port_set(exposed) -> dict | None:
    """``portsToPortSet``: ``80`` -> ``80/tcp``, keys in Go's map order."""
    if not exposed:
        return None
    ports: dict[str, dict] = {}
    for key in exposed:
        port, _, proto = key.partition("/")
        ports["%s/%s" % (port, proto or "tcp")] = {}
    return dict(sorted(ports.items()))


def image_inspect(data: dict, container_last: bool = False) -> dict:
    """``ImageDataToImageInspect``: libpod's ImageData (``podman image
    inspect``) as Docker's ImageInspect, in Go's field order.
    ``container_last``: podman 5.1's order, where ``Container`` is podman's
    own field after Docker's struct (``handlers.ImageInspect``)."""
    config = data.get("Config") or {}
    labels = data.get("Labels") or None
    volumes = config.get("Volumes") or None
    image_id = data.get("Id", "")

    def container_config(hostname="", **fields):
        cfg = {"Hostname": hostname, "Domainname": "", "User": fields.get("User", ""), "AttachStdin": False,
               "AttachStdout": False, "AttachStderr": False}
        if fields.get("ExposedPorts"):
            cfg["ExposedPorts"] = fields["ExposedPorts"]
        cfg.update({"Tty": False, "OpenStdin": False, "StdinOnce": False, "Env": fields.get("Env"),
                    "Cmd": fields.get("Cmd"), "Image": "", "Volumes": volumes,
                    "WorkingDir": fields.get("WorkingDir", ""), "Entrypoint": fields.get("Entrypoint"),
                    "OnBuild": None, "Labels": fields.get("Labels")})
        if fields.get("StopSignal"):
            cfg["StopSignal"] = fields["StopSignal"]
        return cfg

    body = {
        "Id": "sha256:" + image_id,
        "RepoTags": data.get("RepoTags"),
        "RepoDigests": data.get("RepoDigests"),
        "Parent": data.get("Parent", ""),
        "Comment": data.get("Comment", ""),
        "Created": data.get("Created", ""),
        "Container": "",
        "ContainerConfig": container_config(image_id[:11]),
        "DockerVersion": data.get("Version", ""),
        "Author": data.get("Author", ""),
        "Config": container_config(User=data.get("User", ""), ExposedPorts=_port_set(config.get("ExposedPorts")),
                                   Env=config.get("Env"), Cmd=config.get("Cmd"),
                                   WorkingDir=config.get("WorkingDir", ""), Entrypoint=config.get("Entrypoint"),
                                   Labels=labels, StopSignal=config.get("StopSignal", "")),
        "Architecture": data.get("Architecture", ""),
        "Os": data.get("Os", ""),
    }
    if data.get("Version"):
        body["OsVersion"] = data["Version"]
    rootfs = data.get("RootFS") or {}
    layers = rootfs.get("Layers") or []
    graph = data.get("GraphDriver") or {}
    body.update({
        "Size": data.get("Size", 0),
        "VirtualSize": data.get("VirtualSize", 0),
        "GraphDriver": {"Data": graph.get("Data"), "Name": graph.get("Name", "")},
        "RootFS": {"Type": rootfs.get("Type", "")} if not layers else {"Type": rootfs.get("Type", ""),
                                                                        "Layers": list(layers)},
        "Metadata": {"LastTagTime": "0001-01-01T00:00:00Z"},
    })
    if container_last:
        body["Container"] = body.pop("Container")
    return body


class StoreIndex:
    """Read-only looks at containers/storage's own index files (as
    ``ImageEngine.storage_order`` does), for what no podman command
    prints: which layer blobs the store holds (pull's "Already exists") and
    the size of an image's stored manifest (push's final ``size:``)."""

    def __init__(self, images: ImageEngine):
        self.images = images

    def _load(self, kind: str):
        import json

        path = self.images.store_index(kind)
        try:
            with open(path, "rb") as f:
                return json.load(f)
        except (OSError, ValueError):
            return []

    def layer_digests(self) -> set:
        """Every compressed and uncompressed digest of the store's layers."""
        found: set[str] = set()
        for layer in self._load("layers") or []:
            if isinstance(layer, dict):
                found.update(d for d in (layer.get("compressed-diff-digest"), layer.get("diff-digest")) if d)
        return found

    def compressed_digests(self) -> set:
        """The digests of the blobs the store's layers were made from."""
        return {layer.get("compressed-diff-digest") for layer in self._load("layers") or []
                if isinstance(layer, dict) and layer.get("compressed-diff-digest")}

    def manifest_size(self, image_id: str) -> int:
        """The size of the manifest stored with the image (libimage's
        ``Image.Manifest``), 0 if unknown."""
        for image in self._load("images") or []:
            if isinstance(image, dict) and image.get("id") == image_id:
                sizes = image.get("big-data-sizes") or {}
                # containers/image's storage source: the "manifest" item
                # when no digest was asked for
                return sizes.get("manifest", sizes.get("manifest-" + image.get("digest", ""), 0))
        return 0
