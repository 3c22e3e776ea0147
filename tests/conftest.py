"""Shared fixtures. Slow suites (real servers, third-party tools) are marked `slow`:
`pytest -m "not slow"` runs the fast core in seconds; CI runs everything."""
