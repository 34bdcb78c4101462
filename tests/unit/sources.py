"""podproxy's own source, parsed, for the tests that check where code lives."""
import ast
import os

PACKAGE = os.path.join(os.path.dirname(__file__), "..", "..", "podproxy")


def module_nodes(folder: str):
    """``(file name, node)`` for every AST node of the modules in ``podproxy/folder``."""
    path = os.path.join(PACKAGE, folder)
    for name in sorted(os.listdir(path)):
        if name.endswith(".py"):
            with open(os.path.join(path, name)) as f:
                tree = ast.parse(f.read())
            for node in ast.walk(tree):
                yield name, node
