"""The engine knows podman, the handlers know HTTP: engine errors carry a
kind, a message, a cause and an exit code, never a status; one module of
podman's handler helpers (``handlers/errors.py``) turns them into answers."""
import ast
import os

import pytest

from podproxy.engine.images import RemoveReport
from podproxy.engine.podman import errors
from podproxy.engine.transfers import scp_refusal
from podproxy.handlers.errors import answer, error, internal_server_error
from podproxy.web.errors import APIError

PACKAGE = os.path.join(os.path.dirname(__file__), "..", "..", "podproxy")


def _sources(folder):
    for root, _, files in os.walk(os.path.join(PACKAGE, folder)):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(root, name)
                yield os.path.relpath(path, PACKAGE), ast.parse(open(path).read())


def test_engine_errors_have_a_kind_and_no_status():
    err = errors.error_for(2, "Error: image is in use by a container\n")
    assert not isinstance(err, APIError) and not hasattr(err, "status")
    assert (err.kind, err.exit_code, err.cause) == (errors.CONFLICT, 2, "image is in use by a container")
    wrapped = err.wrap("image x is in use")
    assert (type(wrapped), wrapped.kind, wrapped.cause, wrapped.exit_code) == (errors.InUse, errors.CONFLICT,
                                                                            err.cause, 2)
    assert wrapped.message == "image x is in use: image is in use by a container"
    assert errors.error_for(1, "Error: x\n").kind == errors.NOT_FOUND
    assert errors.Unavailable("podman timed out", -9).kind == errors.UNAVAILABLE
    assert errors.ClientGone().kind == errors.CLIENT_GONE


@pytest.mark.parametrize("err,status", [
    (errors.NotFound("x: image not known", 1), 404), (errors.InUse("in use", 2), 409),
    (errors.BadInput("invalid argument: x", cause="invalid argument"), 400), (errors.Failure("boom", 125), 500),
    (errors.Unavailable("podman not found", 127), 500), (errors.ClientGone(), 500),
])
def test_handlers_answer_by_kind(err, status):
    got = answer(err)
    assert (got.status, got.message, got.cause) == (status, err.message, err.cause)
    assert internal_server_error(err).status == 500 and error(418, err).status == 418


def test_no_engine_module_chooses_an_http_status():
    """No ``APIError`` (the HTTP error) under engine/, and no ``with_status``
    override in a handler."""
    for path, tree in _sources("engine"):
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
        assert "APIError" not in names, path
    for path, tree in _sources("handlers"):
        calls = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == "with_status"]
        assert not calls, (path, calls)


def test_scp_refusals_are_kinds_not_statuses():
    local = scp_refusal("x", "y")
    assert isinstance(local, errors.EngineError) and local.kind == errors.UNSUPPORTED
    assert local.cause == "invalid argument"
    missing = scp_refusal("x", "")
    assert missing.kind == errors.BAD_INPUT and missing.message == "must specify a destination: invalid argument"
    assert scp_refusal("x", "user@host::y") is None


def test_a_failed_remove_is_typed_by_podmans_exit_code():
    assert RemoveReport().failure() is None
    assert RemoveReport(exit_code=1, errors=["x: image not known"]).failure().kind == errors.NOT_FOUND
    assert RemoveReport(exit_code=2, errors=["a", "b"]).failure().kind == errors.CONFLICT
    failed = RemoveReport(exit_code=125, errors=["a", "b"]).failure()
    assert failed.kind == errors.FAILED and failed.message == "2 errors occurred:\n\t* a\n\t* b"
