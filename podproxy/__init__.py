"""podproxy: podman's libpod images REST API over the real podman CLI."""

__version__ = "0.1.0"
