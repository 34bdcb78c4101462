"""Every module or object named by a string (gunicorn's settings, the deploy
files, the console script, the documents) imports: a module moved without its
string is caught here, not by gunicorn at start-up."""

import ast
import configparser
import importlib
import os
import re
import shutil

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PACKAGES = ("web", "handlers", "engine", "gocompat", "security", "observability", "serving", "app", "cli",
            "settings")
DOTTED = re.compile(r"\bpodproxy\.(?:%s)(?:\.\w+)*(?::\w+)?" % "|".join(PACKAGES))


@pytest.fixture(autouse=True)
def own_environment(monkeypatch):
    """Importing the WSGI entry sets PROMETHEUS_MULTIPROC_DIR to a temp dir of its own
    (serving.server.metrics_dir): put the environment back, so that servers started by later
    tests in this process do not inherit it, nor prometheus_client decide on it (it does once, when
    first imported: here, before)."""
    import prometheus_client  # noqa: F401

    from podproxy.serving import server

    for name in (server.METRICS_ENV, server.OWNED_METRICS_ENV):
        monkeypatch.setenv(name, "")  # recorded as it was (unset, usually): restored after the test
        monkeypatch.delenv(name)
    yield
    owned = os.environ.get(server.OWNED_METRICS_ENV)
    if owned:  # the temp dir metrics_dir made
        shutil.rmtree(owned, ignore_errors=True)


def resolve(name: str):
    """The object ``a.b.c`` or ``a.b:c`` names: the longest importable module, then attributes."""
    module, _, attr = name.partition(":")
    parts = module.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ModuleNotFoundError:
            continue
        for part in parts[i:] + ([attr] if attr else []):
            obj = getattr(obj, part)
        return obj
    raise ModuleNotFoundError(name)


def gunicorn_settings():
    tree = ast.parse(open(os.path.join(ROOT, "podproxy", "serving", "gunicorn_conf.py")).read())
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id in ("wsgi_app", "worker_class", "logger_class"):
                    found[target.id] = node.value.value
    return found


def test_gunicorn_dotted_settings_import():
    found = gunicorn_settings()
    assert set(found) == {"wsgi_app", "worker_class", "logger_class"}
    for name in found.values():
        resolve(name)


def test_deploy_gunicorn_conf_imports_exist():
    tree = ast.parse(open(os.path.join(ROOT, "deploy", "gunicorn.conf.py")).read())
    imports = [(n.module, a.name) for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names]
    assert imports
    for module, name in imports:
        mod = importlib.import_module(module)
        if name != "*":
            getattr(mod, name)


def test_console_script_and_version_attr():
    cfg = configparser.ConfigParser()
    cfg.read(os.path.join(ROOT, "setup.cfg"))
    scripts = [line.split("=", 1)[1].strip() for line in cfg["options.entry_points"]["console_scripts"].splitlines()
               if "=" in line]
    assert scripts
    for target in scripts:
        assert callable(resolve(target))
    assert resolve(cfg["metadata"]["version"].split("attr:")[1].strip())


def _text_files():
    for folder in ("deploy", "docs", "podproxy", "bench", ".ci"):
        for root, _, files in os.walk(os.path.join(ROOT, folder)):
            for f in files:
                if f.endswith((".py", ".md", ".conf", ".service", ".socket", ".cfg")) or f in ("Containerfile", "run"):
                    yield os.path.join(root, f)
    yield os.path.join(ROOT, "README.md")
    yield os.path.join(ROOT, "setup.cfg")


NAMES = sorted({(os.path.relpath(path, ROOT), m.group(0).rstrip("."))
                for path in _text_files() for m in DOTTED.finditer(open(path, errors="replace").read())})


@pytest.mark.parametrize("path,name", NAMES)
def test_dotted_name_in_text_imports(path, name):
    resolve(name)
