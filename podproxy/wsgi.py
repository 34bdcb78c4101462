"""The WSGI app for plain gunicorn (``gunicorn -c deploy/gunicorn.conf.py``),
configured from ``PODPROXY_*`` variables."""
from .app import create_app

app = create_app()
