"""HTTP only: podman's routes, their query specs and thin handlers.

One module per podman handler file, each with a ``RouteTable``;
``app.route_tables()`` lists them in podman's registration order (first
match wins, as in podman). A handler gets the query the dispatcher decoded
through its route's ``Query`` spec, calls the engine, and writes podman's
answer.
"""
