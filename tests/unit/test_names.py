"""Names that say what they do: no parameter shadows ``all`` or ``list`` (ImageEngine.prune's
``all`` is ``all_images``; remove's ``all`` was never read: no names is every image)."""
import ast
import os

PACKAGE = os.path.join(os.path.dirname(__file__), "..", "..", "podproxy")


def test_no_parameter_shadows_all_or_list():
    found = []
    for root, _, files in os.walk(PACKAGE):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(root, name)
                with open(path) as f:
                    tree = ast.parse(f.read())
                for node in ast.walk(tree):
                    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        args = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
                        found += ["%s:%s(%s)" % (name, node.name, a.arg) for a in args if a.arg in ("all", "list")]
    assert not found
