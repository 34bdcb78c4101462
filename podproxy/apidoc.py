"""The committed ``docs/openapi.json``: the document of a default app, as
``GET /openapi.json`` serves it. Regenerate after changing a route::

    python3 -m podproxy.apidoc > docs/openapi.json
"""
from __future__ import annotations

import sys

from .app import create_app
from .settings import Settings
from .web import openapi


def default_app():
    return create_app({"TESTING": True}, settings=Settings())


def operations() -> list:
    return openapi.operations(default_app())


def document() -> dict:
    return openapi.document(default_app())


def text() -> str:
    return openapi.text(default_app())


def main() -> int:
    sys.stdout.write(text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
