"""web/responses.py holds podman's success encodings only; the app's services live in
podproxy/services.py and form_get beside the form body it reads (web/bodies.py)."""
from flask import g

from podproxy import services
from podproxy.web import bodies, responses


def test_responses_are_encoders_only():
    assert not {"services", "engine", "features", "form_get"} & set(vars(responses))


def test_handlers_reach_the_apps_services(app):
    with app.app_context():
        assert services.services() is app.extensions[services.EXTENSION]
        assert services.engine() is services.services().images


def test_form_get_reads_the_query_when_there_is_no_form(app):
    with app.test_request_context("/x?a=1&a=2"):
        g.query_pairs = [("a", "1"), ("a", "2")]
        assert bodies.form_get("a") == "1" and bodies.form_get("A") == ""
