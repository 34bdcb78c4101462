"""HTTP only: podman's routes, their query specs and thin handlers.

One module per area, each with a ``RouteTable``; ``ROUTE_TABLES`` lists
them in podman's registration order (first match wins, as in podman).
Handlers decode nothing by hand and build no podman command line: the
dispatcher hands them the decoded query, and ``engine()`` does the podman
work.
"""
