"""HTTP plumbing that never runs podman: router, query decoder, error body, encoders, request bodies, OpenAPI."""
