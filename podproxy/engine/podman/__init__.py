"""Running the podman binary: runner, streams, watchdog, launcher, process control, errors, argv checks."""
