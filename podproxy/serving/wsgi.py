"""The WSGI app for plain gunicorn (``gunicorn -c deploy/gunicorn.conf.py``),
configured from ``PODPROXY_*`` variables."""
from .server import metrics_dir

metrics_dir()  # the master preloads this module: before prometheus_client is imported

from ..app import create_app  # noqa: E402

app = create_app()
