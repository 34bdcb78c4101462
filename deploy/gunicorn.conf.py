"""podproxy's gunicorn configuration (the copy shipped in the package,
``podproxy/serving/gunicorn_conf.py``, is the single source; this file only
imports it so that ``gunicorn -c deploy/gunicorn.conf.py`` works from a
checkout). Settings come from the ``PODPROXY_*`` variables."""
from podproxy.serving.gunicorn_conf import *  # noqa: F401,F403
from podproxy.serving.gunicorn_conf import child_exit, on_exit, on_starting  # noqa: F401
