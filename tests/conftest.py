"""Shared fixtures. Slow suites (real servers, third-party tools) are marked `slow`:
`pytest -m "not slow"` runs the fast core in seconds; CI runs everything."""

from hypothesis import settings

# Hypothesis fails an example that takes over 200 ms: on a loaded machine (CI, or
# eight suites on two cores) that fails property tests by accident, e.g.
# test_pricing's chain sum at 1.3 s. The properties are what these tests check;
# speed is measured in bench/.
settings.register_profile("pagetally", deadline=None)
settings.load_profile("pagetally")
