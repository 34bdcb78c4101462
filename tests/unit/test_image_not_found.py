"""utils.ImageNotFound once (handlers/images.not_found_answer): the lookups that wrap with
"failed to find image" and the exports that do not both decide through it."""
from podproxy.engine.podman.errors import NotFound
from podproxy.handlers import images, transfers


def test_one_decision():
    assert not hasattr(transfers, "image_not_found")
    assert transfers.not_found_answer is images.not_found_answer


def test_an_unknown_image_is_a_404_with_or_without_the_wrapping(app):
    err = NotFound("nope: image not known", 1)
    with app.app_context():
        bare = images.not_found_answer(err, True)
        wrapped = images.image_not_found("nope", err)
    assert (bare.status, bare.message) == (404, "nope: image not known")
    assert (wrapped.status, wrapped.message, wrapped.cause) == (404, "failed to find image nope: nope: image not known",
                                                                 "image not known")
