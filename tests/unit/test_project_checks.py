"""The project's own checks: CI runs ruff (lint, import order) and mypy before the tests, with
the configuration in pyproject.toml and the tools in the test extra; python_requires is true."""
import configparser
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def read(name: str) -> str:
    with open(os.path.join(ROOT, name), encoding="utf-8") as f:
        return f.read()


def test_ci_runs_ruff_and_mypy_before_the_tests():
    ci = read(".ci/run")
    lint = ci.index(".venv/bin/ruff check podproxy tests bench")
    types = ci.index(".venv/bin/mypy")
    assert lint < ci.index('eval "$test_command"') and types < ci.index('eval "$test_command"')


def test_the_tools_are_in_the_test_extra_and_configured():
    setup = configparser.ConfigParser()
    setup.read(os.path.join(ROOT, "setup.cfg"))
    extra = setup["options.extras_require"]["test"]
    assert re.search(r"^ruff\b", extra, re.M) and re.search(r"^mypy\b", extra, re.M)
    pyproject = read("pyproject.toml")
    assert "[tool.ruff.lint]" in pyproject and "[tool.mypy]" in pyproject


def test_python_requires_is_true():
    """os.splice (the upload path) is new in 3.10."""
    setup = configparser.ConfigParser()
    setup.read(os.path.join(ROOT, "setup.cfg"))
    assert setup["options"]["python_requires"].strip() == ">=3.10"
    assert sys.version_info >= (3, 10) and hasattr(os, "splice")
