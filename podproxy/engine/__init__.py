"""Image operations as podman command lines and output parsing, the answer cache, uploads, build
contexts, scratch dirs; ``podman/`` runs the binary."""
