"""The services one app was built with (``create_app``), as its handlers reach
them during a request: ``services()``, and the two they use most,
``engine()`` (the image engine) and ``features()`` (the running podman's
versioned behaviours)."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from .engine.build import BuildEngine
from .engine.images import ImageEngine
from .engine.podman.runner import Runner
from .engine.registry import RegistryEngine
from .engine.system import SystemEngine
from .engine.transfers import TransferEngine
from .engine.versions import Features
from .settings import Settings
from .web.routing import Router

EXTENSION = "podproxy"  # current_app.extensions[EXTENSION]


@dataclass
class Services:
    """What handlers reach through ``services()``."""

    settings: Settings
    runner: Runner
    images: ImageEngine
    system: SystemEngine
    router: Router
    transfers: TransferEngine
    registry: RegistryEngine
    builder: BuildEngine


def services() -> Services:
    """The current app's ``Services``."""
    return current_app.extensions[EXTENSION]


def features() -> Features:
    """The running podman's versioned behaviours (``engine.versions``)."""
    return services().system.features()


def engine() -> ImageEngine:
    """The current app's image engine."""
    return services().images
