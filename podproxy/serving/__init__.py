"""gunicorn: the launcher, its configuration, the balanced worker, the WSGI entry."""
