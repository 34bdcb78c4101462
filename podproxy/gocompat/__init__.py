"""Pure re-implementations of Go and containers/* behaviour (rule: no I/O, no Flask)."""
