"""Running the podman binary: runner, streams, watchdog, process control, errors, argv checks."""
