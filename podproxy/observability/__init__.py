"""The access record, Prometheus metrics, gunicorn's logger."""
