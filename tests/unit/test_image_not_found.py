"""utils.ImageNotFound once (handlers/errors.py): the lookups that wrap with
"failed to find image" and the exports that do not both decide through it."""
import inspect

from podproxy.engine.podman.errors import Failure, NotFound
from podproxy.handlers import errors, images, transfers


def test_one_decision():
    assert images.image_not_found is errors.image_not_found
    assert not hasattr(transfers, "image_not_found") and not hasattr(transfers, "not_found_answer")
    assert "lookup_failed(" in inspect.getsource(transfers._lookup_failed)


def test_an_unknown_image_is_a_404_with_or_without_the_wrapping(app):
    err = NotFound("nope: image not known", 1)
    with app.app_context():
        bare = errors.error(404, err)
        wrapped = errors.image_not_found("nope", err)
    assert (bare.status, bare.message) == (404, "nope: image not known")
    assert (wrapped.status, wrapped.message, wrapped.cause) == (404, "failed to find image nope: nope: image not known",
                                                                 "image not known")


def test_another_lookup_failure_is_a_500(app):
    with app.app_context():
        answer = errors.image_not_found("x", Failure("x: permission denied", 125))
    assert answer.status == 500 and answer.message == "failed to find image x: x: permission denied"
