"""Modules with one job each: none of the package's modules is over 300 lines."""
import os

PACKAGE = os.path.join(os.path.dirname(__file__), "..", "..", "podproxy")
LIMIT = 300


def test_no_module_over_the_limit():
    sizes = {}
    for root, _, files in os.walk(PACKAGE):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(root, name)
                with open(path) as f:
                    sizes[os.path.relpath(path, PACKAGE)] = sum(1 for _ in f)
    assert not {name: n for name, n in sizes.items() if n > LIMIT}
