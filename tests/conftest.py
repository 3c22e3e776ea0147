"""Shared fixtures. Slow suites (real servers, third-party tools) are marked `slow`:
`pytest -m "not slow"` runs the fast core (about a minute; a folder in seconds); CI
runs everything."""

import os
import sys

from hypothesis import settings

# Bytecode is cached (in the ignored __pycache__ folders) even where the
# environment says not to write it (PYTHONDONTWRITEBYTECODE=1): without the cache
# every run compiles the package and rewrites the asserts of ~200 test modules
# again (collection 8.6 s -> 3.8 s CPU here), and every subprocess a test starts
# (the CLI's start-up tests, the backend, serve) compiles what it imports.
sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

# Hypothesis fails an example that takes over 200 ms: on a loaded machine (CI, or
# eight suites on two cores) that fails property tests by accident, e.g.
# test_pricing's chain sum at 1.3 s. The properties are what these tests check;
# speed is measured in bench/.
settings.register_profile("pagetally", deadline=None)
settings.load_profile("pagetally")
