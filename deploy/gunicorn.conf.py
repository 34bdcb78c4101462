"""podproxy's gunicorn configuration (the copy shipped in the package,
``podproxy/gunicorn_conf.py``, is the single source; this file only
imports it so that ``gunicorn -c deploy/gunicorn.conf.py`` works from a
checkout). Settings come from the ``PODPROXY_*`` variables."""
from podproxy.gunicorn_conf import *  # noqa: F401,F403
from podproxy.gunicorn_conf import child_exit, on_exit, on_starting  # noqa: F401
