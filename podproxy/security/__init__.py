"""Who may call what: auth, policy, the gate, registry credentials, socket permissions."""
