"""Where containers/storage keeps its files: each store (images, layers,
containers) is a directory ``<root>/<driver>-<kind>/`` holding its JSON index
``<kind>.json`` and its lock file ``<kind>.lock``. podproxy reads them (the
storage order of images, the answer cache's fingerprint), never writes them.
"""
from __future__ import annotations

import os


def store_file(root: str, driver: str, kind: str, name: str | None = None) -> str:
    """The file ``name`` (default: the index, ``<kind>.json``) of the ``kind`` store under ``root``
    (graphRoot, or runRoot for the volatile indexes)."""
    return os.path.join(root, "%s-%s" % (driver, kind), name or "%s.json" % kind)
